package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/credguard/credguard/internal/scp"
)

const policiesUsage = `usage: credguard policies scp [--remediation-role-name NAME] [--hub-account ID] [--partition P]

Prints the service control policy that prevents what the IMDS guardrail
remediates. Attach it to the organizational units of the member accounts
(never to the management account: SCPs do not apply there anyway):

  - ec2:RunInstances is denied unless ec2:MetadataHttpTokens is "required"
    (StringNotEquals, on arn:aws:ec2:*:*:instance/*);
  - ec2:RunInstances is denied when ec2:MetadataHttpPutResponseHopLimit is
    above 1 (NumericGreaterThan);
  - ec2:ModifyInstanceMetadataOptions is denied to every principal but the
    IMDS member role (in any account) and the hub's imds-enforcer and sweeper
    function roles (ArnNotLike on aws:PrincipalARN);
  - every action is denied to role credentials delivered by IMDSv1
    (ec2:RoleDelivery NumericLessThan 2.0).

Flags:
  --remediation-role-name NAME  the member role that changes metadata options (default
                                credguard-imds-remediation)
  --hub-account ID              pin the hub function roles to the hub account (default: any account;
                                set it so that a same-named role elsewhere is not let through)
  --partition P                 ARN partition (default aws)

Exit 0 on success, 2 for usage errors.
`

func runPolicies(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, policiesUsage)
			return 2
		}
		fmt.Fprint(stdout, policiesUsage)
		return 0
	}
	if args[0] != "scp" {
		fmt.Fprintf(stderr, "credguard policies: unknown policy %q\n%s", args[0], policiesUsage)
		return 2
	}
	fs := flag.NewFlagSet("policies scp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	var o scp.Options
	fs.StringVar(&o.RemediationRoleName, "remediation-role-name", "", "the IMDS member role's name")
	fs.StringVar(&o.HubAccount, "hub-account", "", "the hub account id")
	fs.StringVar(&o.Partition, "partition", "", "ARN partition")
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, policiesUsage)
			return 0
		}
		fmt.Fprint(stderr, policiesUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "credguard policies scp: unexpected argument %q\n%s", fs.Arg(0), policiesUsage)
		return 2
	}
	data, err := scp.JSON(o)
	if err != nil {
		fmt.Fprintf(stderr, "credguard policies scp: %v\n", err)
		return 2
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, data, "", "  "); err != nil {
		fmt.Fprintf(stderr, "credguard policies scp: %v\n", err)
		return 2
	}
	// Whitespace counts towards the quota: print compactly if indenting
	// would not fit.
	if pretty.Len() > scp.MaxSize {
		pretty.Reset()
		pretty.Write(data)
	}
	pretty.WriteByte('\n')
	stdout.Write(pretty.Bytes())
	return 0
}
