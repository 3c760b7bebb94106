package sandbox

// ---- EC2 response shapes (element names as the EC2 API model spells them) ----

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// ec2Tags is the tagSet of a resource; nil (no element) when it has no tags,
// as EC2 answers.
func ec2Tags(m map[string]string) *items[ec2Tag] {
	if len(m) == 0 {
		return nil
	}
	l := &items[ec2Tag]{}
	for _, k := range sortedKeys(m) {
		l.Items = append(l.Items, ec2Tag{Key: k, Value: m[k]})
	}
	return l
}

type ec2InstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2MetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type ec2Instance struct {
	InstanceID      string             `xml:"instanceId"`
	ImageID         string             `xml:"imageId"`
	State           ec2InstanceState   `xml:"instanceState"`
	InstanceType    string             `xml:"instanceType"`
	Tags            *items[ec2Tag]     `xml:"tagSet,omitempty"`
	MetadataOptions ec2MetadataOptions `xml:"metadataOptions"`
}

type ec2Reservation struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	Instances     items[ec2Instance] `xml:"instancesSet"`
}

type describeInstancesResult struct {
	ec2Response
	Reservations items[ec2Reservation] `xml:"reservationSet"`
	NextToken    string                `xml:"nextToken,omitempty"`
}

type modifyInstanceMetadataOptionsResult struct {
	ec2Response
	InstanceID      string             `xml:"instanceId"`
	MetadataOptions ec2MetadataOptions `xml:"instanceMetadataOptions"`
}

type ec2MetadataDefaults struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
	HTTPTokensEnforced      string `xml:"httpTokensEnforced,omitempty"`
}

type getInstanceMetadataDefaultsResult struct {
	ec2Response
	AccountLevel ec2MetadataDefaults `xml:"accountLevel"`
}

type ec2ReturnResult struct {
	ec2Response
	Return bool `xml:"return"`
}

type ec2LaunchTemplate struct {
	ID                   string         `xml:"launchTemplateId"`
	Name                 string         `xml:"launchTemplateName"`
	CreateTime           string         `xml:"createTime"`
	CreatedBy            string         `xml:"createdBy"`
	DefaultVersionNumber int            `xml:"defaultVersionNumber"`
	LatestVersionNumber  int            `xml:"latestVersionNumber"`
	Tags                 *items[ec2Tag] `xml:"tagSet,omitempty"`
}

type ec2TemplateMetadataOptions struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
}

type ec2InstanceProfile struct {
	ARN  string `xml:"arn,omitempty"`
	Name string `xml:"name,omitempty"`
}

type ec2TemplateData struct {
	ImageID            string                      `xml:"imageId,omitempty"`
	InstanceType       string                      `xml:"instanceType,omitempty"`
	KeyName            string                      `xml:"keyName,omitempty"`
	UserData           string                      `xml:"userData,omitempty"`
	EbsOptimized       *bool                       `xml:"ebsOptimized,omitempty"`
	IamInstanceProfile *ec2InstanceProfile         `xml:"iamInstanceProfile,omitempty"`
	SecurityGroupIDs   *items[string]              `xml:"securityGroupIdSet,omitempty"`
	MetadataOptions    *ec2TemplateMetadataOptions `xml:"metadataOptions,omitempty"`
}

type ec2TemplateVersion struct {
	TemplateID         string          `xml:"launchTemplateId"`
	TemplateName       string          `xml:"launchTemplateName"`
	VersionNumber      int             `xml:"versionNumber"`
	VersionDescription string          `xml:"versionDescription,omitempty"`
	CreateTime         string          `xml:"createTime"`
	CreatedBy          string          `xml:"createdBy"`
	DefaultVersion     bool            `xml:"defaultVersion"`
	Data               ec2TemplateData `xml:"launchTemplateData"`
}

type describeLaunchTemplatesResult struct {
	ec2Response
	LaunchTemplates items[ec2LaunchTemplate] `xml:"launchTemplates"`
	NextToken       string                   `xml:"nextToken,omitempty"`
}

type describeLaunchTemplateVersionsResult struct {
	ec2Response
	Versions  items[ec2TemplateVersion] `xml:"launchTemplateVersionSet"`
	NextToken string                    `xml:"nextToken,omitempty"`
}

type createLaunchTemplateVersionResult struct {
	ec2Response
	Version ec2TemplateVersion `xml:"launchTemplateVersion"`
}

type modifyLaunchTemplateResult struct {
	ec2Response
	LaunchTemplate ec2LaunchTemplate `xml:"launchTemplate"`
}
