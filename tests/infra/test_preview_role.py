"""The preview role (deploy/github-oidc.yaml) is handed to code from any
pull request branch: what it may do is checked here as policy, statement by
statement, so that a preview can reach its own callmask-pr-* stack and
nothing of dev's or prod's. Reads the files only (no AWS)."""
import fnmatch
import re
import tomllib

import yaml

from helpers.stack import ROOT
from helpers.template import CfnLoader, template

WORKFLOWS = ROOT / ".github" / "workflows"
STACK_TAG = "aws:ResourceTag/aws:cloudformation:stack-name"
# IAM actions that write a role's permissions (or its boundary): IAM puts
# the role's boundary in their request context as iam:PermissionsBoundary.
ROLE_WRITES = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
               "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
# What would let a created role shed its boundary, or change the boundary.
ESCAPES = ["iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
           "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:CreatePolicy", "iam:PutUserPolicy",
           "iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey", "iam:UpdateRole*"]


def oidc():
    return yaml.load((ROOT / "deploy" / "github-oidc.yaml").read_text(), Loader=CfnLoader)


def as_list(value):
    return value if isinstance(value, list) else [value]


def strings(value):
    """Every ARN a Resource names: `!Sub` text, plain strings, both sides
    of an `!If`; a `!Ref` as `{Ref}`."""
    for v in as_list(value):
        if isinstance(v, str):
            yield v
        elif "Sub" in v:
            yield v["Sub"] if isinstance(v["Sub"], str) else v["Sub"][0]
        elif "If" in v:
            for branch in v["If"][1:]:
                yield from strings(branch)
        elif "Ref" in v and v["Ref"] != "AWS::NoValue":
            yield "{" + v["Ref"] + "}"


def matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def grants(stmt, action: str) -> bool:
    return any(matches(p, action) for p in as_list(stmt["Action"]))


def preview_statements():
    res = oidc()["Resources"]
    role = res["PreviewRole"]["Properties"]
    assert "Policies" not in role, "the preview role's policies are the managed ones below"
    for ref in role["ManagedPolicyArns"]:
        yield from res[ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]


def allows(statements, action):
    return [s for s in statements if s["Effect"] == "Allow" and grants(s, action)]


def boundary_name():
    """The managed policy the role-writing actions require as boundary."""
    res = oidc()["Resources"]
    (stmt, *_) = allows(preview_statements(), "iam:CreateRole")
    ref = stmt["Condition"]["StringEquals"]["iam:PermissionsBoundary"]["Ref"]
    assert res[ref]["Type"] == "AWS::IAM::ManagedPolicy", ref
    return ref


def test_every_role_a_preview_creates_carries_the_boundary():
    stmts = list(preview_statements())
    boundary = boundary_name()
    for action in ROLE_WRITES:
        granted = allows(stmts, action)
        assert granted or action != "iam:CreateRole", action
        for stmt in granted:
            # Exactly the boundary, on every statement that grants it.
            assert stmt["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == {"Ref": boundary}, (
                stmt["Sid"], action)
    # Nothing that lets a role shed the boundary, or edits it; and no
    # wildcard that would grant those.
    for action in ESCAPES:
        assert not allows(stmts, action), action
    denied = {a for s in stmts if s["Effect"] == "Deny" for a in as_list(s["Action"])}
    assert {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicyVersion", "iam:DeletePolicy"} <= denied
    # The boundary does not bind the role itself: no role it can pass or
    # assume is outside callmask-pr-*.
    for stmt in allows(stmts, "iam:PassRole"):
        assert all(r.endswith(":role/callmask-pr-*") for r in strings(stmt["Resource"])), stmt["Sid"]
    assert not allows(stmts, "sts:AssumeRole")


def test_the_boundary_allows_no_iam_and_nothing_of_dev_or_prod():
    res = oidc()["Resources"]
    boundary = res[boundary_name()]["Properties"]
    stmts = boundary["PolicyDocument"]["Statement"]
    # Actions with no resource-level permissions: "*" is the only resource.
    unscoped = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries", "dynamodb:ListStreams",
                "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    for stmt in stmts:
        if stmt["Effect"] == "Deny":
            continue
        for action in as_list(stmt["Action"]):
            assert "*" not in action, (stmt["Sid"], action)
            assert not action.lower().startswith(("iam:", "sts:", "organizations:")), (stmt["Sid"], action)
        for arn in strings(stmt["Resource"]):
            if arn == "*":
                assert set(as_list(stmt["Action"])) <= unscoped, stmt["Sid"]
            elif "secretsmanager" in arn:
                assert arn.endswith(":secret:${PreviewSecretsPrefix}*"), arn
            elif ":ses:" in arn or ":ecr:" in arn:
                # Sending email as a verified identity, pulling the audio
                # image: neither names a stack (README: blast radius).
                continue
            else:
                assert "callmask-pr-*" in arn, (stmt["Sid"], arn)
            assert "callmask-dev" not in arn and "callmask-prod" not in arn and "callmask/dev" not in arn
    # And says so: no IAM at all for a role that carries it.
    assert any(s["Effect"] == "Deny" and "iam:*" in as_list(s["Action"]) and s["Resource"] == "*" for s in stmts)


def test_every_role_of_a_preview_stack_is_given_the_boundary():
    # template.yaml: each function's role and each IAM role take the boundary
    # named by PermissionsBoundaryName (empty for dev and prod); samconfig's
    # preview env names the one deploy/github-oidc.yaml creates.
    t = template()
    expected = {"If": ["HasPermissionsBoundary",
                       {"Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${PermissionsBoundaryName}"},
                       {"Ref": "AWS::NoValue"}]}
    assert t["Parameters"]["PermissionsBoundaryName"]["Default"] == ""
    assert t["Globals"]["Function"]["PermissionsBoundary"] == expected
    roles = {n: r for n, r in t["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert roles
    for name, role in roles.items():
        assert role["Properties"].get("PermissionsBoundary") == expected, name
    for name, fn in t["Resources"].items():
        if fn["Type"] == "AWS::Serverless::Function":
            assert "Role" not in fn["Properties"], f"{name}: a role of its own would escape the Globals boundary"
    boundary = oidc()["Resources"][boundary_name()]["Properties"]
    default = oidc()["Parameters"][boundary["ManagedPolicyName"]["Ref"]]["Default"]
    preview = samconfig()["preview"]["deploy"]["parameters"]["parameter_overrides"]
    assert f"PermissionsBoundaryName={default}" in preview.split()
    for env in ("dev", "prod"):
        assert "PermissionsBoundaryName" not in samconfig()[env]["deploy"]["parameters"]["parameter_overrides"]


def test_the_preview_role_changes_only_its_own_http_apis():
    # HTTP API ids are random: a preview's API is known by the tag
    # CloudFormation puts on it (aws: tags cannot be set by anyone else).
    region = "arn:${AWS::Partition}:apigateway:${AWS::Region}::"
    for stmt in preview_statements():
        if stmt["Effect"] != "Allow" or not any(a.startswith("apigateway:") for a in as_list(stmt["Action"])):
            continue
        arns = set(strings(stmt["Resource"]))
        if arns <= {region + "/apis"}:
            # Listing, and creating or importing a new API.
            assert set(as_list(stmt["Action"])) <= {"apigateway:GET", "apigateway:POST", "apigateway:PUT"}
        elif arns <= {region + "/tags/*"}:
            continue
        else:
            assert arns == {region + "/apis/*"}, (stmt["Sid"], arns)
            assert stmt["Condition"] == {"StringLike": {STACK_TAG: "callmask-pr-*"}}, stmt["Sid"]
    # execute-api has no tag condition: a grant would reach every API's
    # IAM-authorised admin routes, production's included.
    assert not allows(preview_statements(), "execute-api:Invoke")
    assert allows(preview_statements(), "lambda:InvokeFunction")
    for stmt in allows(preview_statements(), "lambda:InvokeFunction"):
        assert set(strings(stmt["Resource"])) == {
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:callmask-pr-*"}


ARTIFACT_BUCKETS = ("aws-sam-cli-managed-default-samclisourcebucket-*", "${ArtifactBucketName}")


def test_the_preview_role_writes_only_its_own_artefacts():
    reads = {"s3:GetBucketLocation", "s3:ListBucket"}
    objects = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    seen = set()
    for stmt in preview_statements():
        for arn in strings(stmt["Resource"]):
            bucket = next((b for b in ARTIFACT_BUCKETS if f":s3:::{b}" in arn), None)
            if bucket is None or stmt["Effect"] != "Allow":
                continue
            actions = set(as_list(stmt["Action"]))
            if arn.endswith(":s3:::" + bucket):
                assert actions <= reads, (stmt["Sid"], actions - reads)
                if "s3:ListBucket" in actions:
                    assert stmt["Condition"] == {"StringLike": {"s3:prefix": ["callmask-pr-*"]}}, stmt["Sid"]
            else:
                assert arn.endswith(f":s3:::{bucket}/callmask-pr-*"), arn
                assert actions <= objects, stmt["Sid"]
            seen.add(bucket)
    assert seen == set(ARTIFACT_BUCKETS)
    # The SAM CLI's bucket is a stack of its own, shared with dev and prod:
    # a preview may read where it is, never change it.
    writes = ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack",
              "cloudformation:UpdateStack", "cloudformation:CreateStack"]
    for action in writes:
        for stmt in allows(preview_statements(), action):
            for arn in strings(stmt["Resource"]):
                assert "aws-sam-cli-managed-default" not in arn, (stmt["Sid"], action)
    # preview.yml uploads and deletes under that prefix.
    wf = yaml.safe_load((WORKFLOWS / "preview.yml").read_text())
    for job, command in (("deploy", "sam deploy"), ("delete", "sam delete")):
        runs = " ".join(s.get("run", "") for s in wf["jobs"][job]["steps"]).replace("\\\n", " ")
        line = next(line for line in runs.splitlines() if command in line and "--stack-name" in line)
        assert '--s3-prefix "$STACK"' in line, (job, line)


def trusted_subjects(role):
    (stmt,) = oidc()["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Condition"]["StringEquals"] == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    assert set(stmt["Condition"]) == {"StringEquals", "StringLike"}
    return {s["Sub"] for s in stmt["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]}


def test_the_preview_role_trusts_only_the_preview_workflow():
    # The repository's sub claim includes job_workflow_ref (README: the
    # one-time `PUT .../actions/oidc/customization/sub`), so the trust can
    # name the workflow file, not just "some pull request".
    repo = "${GitHubOrg}/${RepositoryName}"
    assert trusted_subjects("PreviewRole") == {
        f"repo:{repo}:pull_request:job_workflow_ref:{repo}/.github/workflows/preview.yml@refs/pull/*/merge"}
    readme = (ROOT / "README.md").read_text()
    assert "/actions/oidc/customization/sub" in readme
    assert '"include_claim_keys": ["repo", "context", "job_workflow_ref"]' in readme
    assert (WORKFLOWS / "preview.yml").exists()


def samconfig():
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def test_the_preview_role_reads_only_preview_secrets():
    params = oidc()["Parameters"]
    assert params["PreviewSecretsPrefix"]["Default"] == "callmask/preview/"
    pattern = params["PreviewSecretsPrefix"]["AllowedPattern"]
    for taken in ("callmask/", "callmask/dev/", "callmask/prod/", "callmask/prod/vonage/"):
        assert not re.fullmatch(pattern, taken), taken
    assert re.fullmatch(pattern, "callmask/preview/")
    for stmt in allows(preview_statements(), "secretsmanager:GetSecretValue"):
        for arn in strings(stmt["Resource"]):
            assert arn.endswith(":secret:${PreviewSecretsPrefix}*"), arn
    overrides = samconfig()["preview"]["deploy"]["parameters"]["parameter_overrides"]
    ids = dict(kv.split("=", 1) for kv in overrides.split())
    assert ids["VonageSignatureSecretId"].startswith("callmask/preview/")
    assert ids["TwilioAuthTokenSecretId"].startswith("callmask/preview/")


def test_the_preview_workflow_smoke_tests_through_its_own_functions():
    wf = yaml.safe_load((WORKFLOWS / "preview.yml").read_text())
    runs = " ".join(s.get("run", "") for s in wf["jobs"]["deploy"]["steps"]).replace("\\\n", " ")
    smoke = " ".join(runs[runs.index("scripts/smoke.py"):].split())
    assert "--numbers-function" in smoke and "--sessions-function" in smoke and "--sigv4" not in smoke


def test_the_readme_says_what_a_preview_can_still_reach():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("#### What the preview role can still do"):]
    section = section[:section.index("\n#")]
    # Who can use the role, what is left in the shared account, and the
    # way out of it.
    for point in ("write access", "logs:PutResourcePolicy", "ses:SendEmail", "separate AWS account"):
        assert point in section, point
