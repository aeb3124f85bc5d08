"""What an operator relies on in AWS: every function's logs kept for a set
time, every function and the API alarmed, a dashboard of the metrics the
functions emit, throttling in front of the webhooks; the deploy roles and
the workflows that use them. Reads the files only (no stack needed)."""
import json
import re

import yaml

from helpers.stack import ROOT
from helpers.template import CfnLoader, template

# The embedded metrics the functions log (namespace callmask).
EMF = {"CallsRouted", "CallsRefused", "SessionsCreated", "PoolNumbersFree",
       "VoicemailsDelivered", "VoicemailFailed"}
ANSWER = {"vonage-answer", "twilio-voice"}
WORKFLOWS = ROOT / ".github" / "workflows"


def functions(t):
    return {name: res for name, res in t["Resources"].items() if res["Type"] == "AWS::Serverless::Function"}


def binary(res):
    return res["Metadata"]["BuildProperties"]["Binary"]


def is_webhook(res):
    return binary(res).startswith(("vonage-", "twilio-"))


def alarms(t):
    return {name: res["Properties"] for name, res in t["Resources"].items() if res["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_function_logs_to_its_own_group_with_retention():
    t = template()
    res = t["Resources"]
    assert t["Parameters"]["LogRetentionDays"]["Default"] == 30
    groups = set()
    for name, fn in functions(t).items():
        ref = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        group = res[ref]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        # Named by stack and binary: never the function's own name, which
        # would make the group depend on the function (Lambda could create
        # it first, and an earlier deployment's group would clash).
        assert group["Properties"]["LogGroupName"] == {"Sub": "/aws/lambda/${AWS::StackName}/" + binary(fn)}
        groups.add(ref)
    assert len(groups) == len(functions(t))
    api_log = res["HttpApi"]["Properties"]["AccessLogSettings"]
    assert res[api_log["DestinationArn"]["GetAtt"].split(".")[0]]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # The route template, never the raw path (a number can sit in it).
    assert "$context.routeKey" in api_log["Format"] and "$context.path" not in api_log["Format"]


def test_every_alarm_goes_to_the_alarm_topic():
    for name, a in alarms(template()).items():
        assert a["AlarmActions"] == a["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert a["TreatMissingData"] == "notBreaching", name


def test_every_function_alarms_on_errors_and_throttles():
    t = template()
    watched = {}
    for a in alarms(t).values():
        if a.get("Namespace") == "AWS/Lambda":
            (dim,) = a["Dimensions"]
            assert dim["Name"] == "FunctionName"
            watched.setdefault(dim["Value"]["Ref"], set()).add(a["MetricName"])
    for name in functions(t):
        assert {"Errors", "Throttles"} <= watched.get(name, set()), name


def test_answer_webhooks_alarm_on_p99_duration():
    t = template()
    slow = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms(t).values()
            if a.get("MetricName") == "Duration" and a.get("ExtendedStatistic") == "p99"
            and a["Threshold"] == {"Ref": "AnswerP99ThresholdMs"}}
    assert {binary(functions(t)[name]) for name in slow} == ANSWER
    assert t["Parameters"]["AnswerP99ThresholdMs"]["Default"] == 1000


def test_api_5xx_rate_and_table_throttles_are_alarmed():
    t = template()
    by_metric = {}
    for name, a in alarms(t).items():
        for m in a.get("Metrics", []):
            if "MetricStat" in m:
                metric = m["MetricStat"]["Metric"]
                by_metric[(metric["Namespace"], metric["MetricName"])] = (name, metric["Dimensions"])
    name, dims = by_metric[("AWS/ApiGateway", "5xx")]
    assert dims == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert by_metric[("AWS/ApiGateway", "Count")][0] == name
    assert alarms(t)[name]["Threshold"] == {"Ref": "Api5xxRateThresholdPercent"}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        _, dims = by_metric[("AWS/DynamoDB", metric)]
        assert dims == [{"Name": "TableName", "Value": {"Ref": "Table"}}]
    # The voicemail alarms that were there before stay.
    assert {"VoicemailFailedAlarm", "VoicemailDeadLetterAlarm"} <= set(alarms(t))


def dashboard_body():
    t = template()
    body = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Sub"]
    known = set(t["Resources"]) | set(t["Parameters"]) | {"AWS::Region", "AWS::StackName", "AWS::AccountId"}
    for ref in re.findall(r"\$\{([^}]+)\}", body):
        assert ref in known, ref
    numeric = {p for p, v in t["Parameters"].items() if v["Type"] == "Number"}
    return json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: "1" if m.group(1) in numeric else "x", body))


def test_dashboard_shows_every_metric_the_functions_emit():
    widgets = dashboard_body()["widgets"]
    named, searched = set(), ""
    for w in widgets:
        for line in w["properties"]["metrics"]:
            if isinstance(line[0], dict):
                searched += line[0]["expression"]
            elif line[0] == "callmask":
                named.add(line[1])
                if line[1] in ("CallsRouted", "CallsRefused"):
                    assert line[2] == "Provider" and line[3] in ("vonage", "twilio"), line
    assert named | {"PoolNumbersFree"} == EMF
    # Every country's pool, whatever countries there are.
    assert "SEARCH('{callmask,Country} MetricName=\"PoolNumbersFree\"'" in searched
    latency = [line for w in widgets for line in w["properties"]["metrics"]
               if isinstance(line[0], str) and line[:2] == ["AWS/Lambda", "Duration"]]
    assert {(line[3], line[4]["stat"]) for line in latency} == {
        ("x", s) for s in ("p50", "p99")}
    assert len(latency) == 4


def test_webhooks_are_throttled_and_may_reserve_concurrency():
    t = template()
    route = t["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert route == {"ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
                     "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"}}
    for name, fn in functions(t).items():
        reserved = fn["Properties"].get("ReservedConcurrentExecutions")
        if is_webhook(fn):
            assert reserved == {"If": ["HasWebhookReservedConcurrency", {"Ref": "WebhookReservedConcurrency"},
                                       {"Ref": "AWS::NoValue"}]}, name
        else:
            assert reserved is None, name
    assert t["Parameters"]["WebhookReservedConcurrency"]["Default"] == 0


def test_tracing_and_architecture_are_parameters():
    t = template()
    glob = t["Globals"]["Function"]
    assert glob["Tracing"] == {"Ref": "Tracing"} and t["Parameters"]["Tracing"]["Default"] == "Disabled"
    assert glob["Architectures"] == [{"Ref": "Architecture"}]
    assert t["Parameters"]["Architecture"]["Default"] == "arm64"


def oidc():
    return yaml.load((ROOT / "deploy" / "github-oidc.yaml").read_text(), Loader=CfnLoader)


def test_every_checkov_skip_says_why():
    for doc in (template(), oidc()):
        for name, res in doc["Resources"].items():
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
                assert len(skip.get("comment", "")) > 30, (name, skip)


def test_deploy_roles_trust_only_this_repository():
    res = oidc()["Resources"]
    subs = {}
    for name in ("DeployRole", "PreviewRole"):
        (stmt,) = res[name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
        cond = stmt["Condition"]
        assert cond["StringEquals"] == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
        subs[name] = {s["Sub"] for s in cond["StringLike"]["token.actions.githubusercontent.com:sub"]}
    # The repository's sub claim names the workflow too (README: one-time
    # setup): each role trusts its own workflow's jobs only.
    repo = "${GitHubOrg}/${RepositoryName}"
    workflow = f":job_workflow_ref:{repo}/.github/workflows/"
    assert subs["DeployRole"] == {f"repo:{repo}:ref:refs/heads/main{workflow}deploy.yml@refs/heads/main",
                                  f"repo:{repo}:environment:prod{workflow}deploy.yml@refs/tags/v*"}
    assert subs["PreviewRole"] == {f"repo:{repo}:pull_request{workflow}preview.yml@refs/pull/*/merge"}


def policy_statements(res, role):
    for ref in res[role]["Properties"]["ManagedPolicyArns"]:
        yield from res[ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]


def test_preview_role_reaches_only_preview_stacks():
    res = oidc()["Resources"]
    for stmt in policy_statements(res, "PreviewRole"):
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        for r in resources:
            arn = r.get("Sub") if isinstance(r, dict) else r
            if arn is None or arn == "*" or "aws-sam-cli-managed-default" in arn or "transform/" in arn:
                continue
            if "secretsmanager" in arn:
                assert arn.endswith("${PreviewSecretsPrefix}*"), arn
            elif "execute-api" in arn or "security-group/" in arn or "vpc/" in arn or "elasticloadbalancing" in arn \
                    or "event-source-mapping" in arn or ":apigateway:" in arn:
                # Generated ids, not names: scoped by a condition, to the
                # smoke test's admin routes, or (HTTP APIs) to the region
                # only; README: previews in an account of their own.
                continue
            else:
                assert "callmask-pr-" in arn, (stmt["Sid"], arn)
        assert "callmask-dev" not in json.dumps(stmt) and "callmask-prod" not in json.dumps(stmt)


def test_pass_role_is_limited_to_lambda_and_ecs():
    res = oidc()["Resources"]
    for role in ("DeployRole", "PreviewRole"):
        passes = [s for s in policy_statements(res, role) if "iam:PassRole" in json.dumps(s["Action"])]
        assert len(passes) == 1
        assert passes[0]["Condition"]["StringEquals"]["iam:PassedToService"] == [
            "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]


def workflows():
    return {p.name: (p.read_text(), yaml.safe_load(p.read_text())) for p in sorted(WORKFLOWS.glob("*.yml"))}


def test_every_action_is_pinned_to_a_commit():
    found = 0
    for name, (text, _) in workflows().items():
        for line in text.splitlines():
            m = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)", line)
            if not m or m.group(1).startswith("./"):
                continue
            found += 1
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/\S+)?@[0-9a-f]{40}", m.group(1)), (name, line)
            assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", m.group(2)), (name, line)
    assert found > 0


def test_aws_only_through_oidc():
    for name, (text, wf) in workflows().items():
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, name
        # `on` parses as True in YAML 1.1.
        assert wf["permissions"] == {"contents": "read"}, name
        for job_name, job in wf["jobs"].items():
            steps = job.get("steps", [])
            if any("configure-aws-credentials" in s.get("uses", "") for s in steps):
                assert job["permissions"] == {"id-token": "write", "contents": "read"}, job_name
                creds = next(s for s in steps if "configure-aws-credentials" in s.get("uses", ""))
                assert creds["with"]["role-to-assume"].startswith("${{ vars.AWS_"), job_name


def test_prod_deploys_only_from_tags_in_the_protected_environment():
    _, wf = workflows()["deploy.yml"]
    prod = wf["jobs"]["prod"]
    assert prod["environment"] == "prod" and prod["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert wf["jobs"]["dev"]["if"] == "github.ref == 'refs/heads/main'"
    for job in ("dev", "prod"):
        assert wf["jobs"][job]["needs"] == "ci"
        runs = " ".join(s.get("run", "") for s in wf["jobs"][job]["steps"])
        assert "--no-confirm-changeset --no-fail-on-empty-changeset" in runs
        assert "scripts/smoke.py --base-url" in runs
        assert any(s.get("if") == "failure()" for s in wf["jobs"][job]["steps"])


def smoke_runs(job):
    """Each command line of the job that runs the smoke test, continuations joined."""
    runs = (s.get("run", "").replace("\\\n", " ") for s in job["steps"])
    return [" ".join(line.split()) for run in runs for line in run.splitlines() if "scripts/smoke.py" in line]


def test_the_prod_smoke_test_adds_nothing_to_the_pool():
    # A fictional number in production's pool is one allocation can hand to
    # a real user, while the test runs or after a failed clean-up: prod's
    # smoke test is read-only; dev's (a pool of its own) exercises it all.
    _, wf = workflows()["deploy.yml"]
    (prod,) = smoke_runs(wf["jobs"]["prod"])
    (dev,) = smoke_runs(wf["jobs"]["dev"])
    assert "--read-only" in prod and "--sigv4" in prod
    assert "--read-only" not in dev


def test_previews_are_same_repository_only():
    _, wf = workflows()["preview.yml"]
    for job in wf["jobs"].values():
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    delete = " ".join(s.get("run", "") for s in wf["jobs"]["delete"]["steps"])
    assert 'sam delete --no-prompts --stack-name "$STACK"' in delete


def test_readme_says_what_each_alarm_means():
    readme = (ROOT / "README.md").read_text()
    t = template()
    for name in alarms(t):
        per_function = re.fullmatch(r"(\w+)(Errors|Throttles)Alarm", name)
        if per_function and per_function.group(1) + "Function" in functions(t):
            assert f"`<Function>{per_function.group(2)}Alarm`" in readme, name
        else:
            assert f"`{name}`" in readme, name
