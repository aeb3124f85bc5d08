"""The local stack is the template: same routes, same table."""
import re
import subprocess

import boto3
import requests

from helpers.stack import ROOT, ROUTER
from helpers.template import template


def test_local_routes_are_the_templates_routes():
    t = template()
    declared = set()
    for res in t["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        binary = res["Metadata"]["BuildProperties"]["Binary"]
        assert res["Properties"]["CodeUri"] == f"functions/{binary}"
        for ev in res["Properties"]["Events"].values():
            if ev["Type"] == "HttpApi":
                p = ev["Properties"]
                declared.add((p["Method"], p["Path"], binary))
    out = subprocess.run([str(ROUTER), "--routes"], capture_output=True, text=True, check=True)
    local = {tuple(line.split()) for line in out.stdout.splitlines() if line.strip()}
    assert local == declared


PUBLIC_LINKS = {"/voicemails/{recording_sid}/recording"}


def test_admin_routes_use_iam_and_webhooks_do_not():
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for ev in res["Properties"]["Events"].values():
            if ev["Type"] != "HttpApi":
                continue
            p = ev["Properties"]
            # Webhooks check the provider's signature; the emailed voicemail
            # link checks its own token (a mail client has no IAM identity).
            is_public = p["Path"].startswith(("/vonage/", "/twilio/")) or p["Path"] in PUBLIC_LINKS
            assert (p.get("Auth", {}).get("Authorizer") == "AWS_IAM") != is_public, p


def test_recordings_bucket_is_private_encrypted_and_tls_only():
    res = template()["Resources"]
    props = res["RecordingsBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    stmt = res["RecordingsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert stmt["Effect"] == "Deny" and stmt["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_local_table_matches_the_template(stack):
    requests.get(stack.url("/numbers"))  # the router created it at start
    props = template()["Resources"]["Table"]["Properties"]
    ddb = boto3.client("dynamodb", endpoint_url=stack.emulator, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    d = ddb.describe_table(TableName="callmask-conformance")["Table"]
    assert d["KeySchema"] == props["KeySchema"]
    assert sorted(d["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == \
        sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    assert d["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
    got = {g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in d["GlobalSecondaryIndexes"]}
    want = {g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in props["GlobalSecondaryIndexes"]}
    assert got == want
    ttl = ddb.describe_time_to_live(TableName="callmask-conformance")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_no_secret_value_sits_in_an_environment():
    text = (ROOT / "template.yaml").read_text()
    assert "resolve:secretsmanager" not in text
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "VONAGE_SIGNATURE_SECRET" not in env and "TWILIO_AUTH_TOKEN" not in env
    # The audio socket's token: by id only, in the functions and the task.
    for res in template()["Resources"].values():
        props = res.get("Properties", {})
        names = list(props.get("Environment", {}).get("Variables", {}))
        for c in props.get("ContainerDefinitions", []):
            names += [str(e) for e in c.get("Environment", [])]
        assert not any(n == "AUDIO_SOCKET_TOKEN" or "'AUDIO_SOCKET_TOKEN'" in n for n in names), names
    assert "ALLOW_UNSIGNED_WEBHOOKS" not in text
    params = template()["Parameters"]
    for p in ("VonageSignatureSecretId", "TwilioAuthTokenSecretId"):
        assert "Default" not in params[p], f"{p} must be required"


def test_only_the_functions_that_use_a_secret_may_read_it():
    # The webhook secrets: the provider's webhooks (and the Twilio token for
    # the worker's downloads and the REST calls of numbers and sessions);
    # the Vonage API secret: only the functions that call Vonage's REST API.
    rest = {"numbers", "sessions"}
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        binary = res["Metadata"]["BuildProperties"]["Binary"]
        text = str(res["Properties"]["Policies"])
        assert ("VonageSignatureSecretId" in text) == binary.startswith("vonage-"), binary
        assert ("TwilioAuthTokenSecretId" in text) == (
            binary.startswith("twilio-") or binary == "voicemail-worker" or binary in rest), binary
        assert ("VonageApiSecretId" in text) == (binary in rest or binary == "vonage-inbound-sms"), binary
        assert ("AudioSocketTokenSecretId" in text) == (binary == "vonage-audio-answer"), binary


def test_recordings_expire_with_their_noncurrent_versions():
    rules = template()["Resources"]["RecordingsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any("ExpirationInDays" in r and "NoncurrentVersionExpiration" in r
               and "AbortIncompleteMultipartUpload" in r for r in rules), rules


def test_the_audio_socket_is_off_by_default_and_all_behind_its_condition():
    t = template()
    assert t["Parameters"]["AudioSocketEnabled"]["Default"] == "false"
    # The functions' own log groups (the audio ones too) exist in every stack.
    function_logs = {name for name, res in t["Resources"].items() if res["Type"] == "AWS::Logs::LogGroup"
                     and any(f"{name[:-len('LogGroup')]}Function" == other for other in t["Resources"])}
    ecs_elb_iam = [name for name, res in t["Resources"].items()
                   if res["Type"].startswith(("AWS::ECS::", "AWS::ElasticLoadBalancingV2::", "AWS::EC2::"))
                   or res["Type"] == "AWS::Logs::LogGroup" and name.startswith("Audio") and name not in function_logs
                   or name.startswith("Audio") and res["Type"] == "AWS::IAM::Role"]
    assert len(ecs_elb_iam) >= 10, ecs_elb_iam
    for name in ecs_elb_iam:
        assert t["Resources"][name].get("Condition") == "AudioSocketEnabled", name


def test_the_audio_socket_behind_tls_with_health_checks_and_least_privilege():
    res = template()["Resources"]
    listener = res["AudioListener"]["Properties"]
    assert listener["Protocol"] == "HTTPS" and listener["Port"] == 443
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": "AudioCertificateArn"}}]
    tg = res["AudioTargetGroup"]["Properties"]
    assert tg["HealthCheckPath"] == "/health" and tg["Matcher"] == {"HttpCode": "200"}
    attrs = {a["Key"]: a["Value"] for a in res["AudioLoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    # Above any call's silence, and above a long call's hour.
    assert int(attrs["idle_timeout.timeout_seconds"]) >= 3600
    service = res["AudioService"]["Properties"]
    assert service["LaunchType"] == "FARGATE"
    assert template()["Parameters"]["AudioTaskCount"]["Default"] == 2
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == {"Split": [",", {"Ref": "AudioSubnetIds"}]}
    container = res["AudioTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Image"] == {"Ref": "AudioSocketImageUri"}
    assert container["ReadonlyRootFilesystem"] is True
    assert container["HealthCheck"]["Command"][-1] == "--health"
    # The task role: put WAVs under audio/, write AUDIO# items, read its token.
    statements = res["AudioTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = []
    for st in statements:
        if isinstance(st, dict) and "If" in st:
            st = st["If"][1]
        actions += st["Action"]
        if st["Action"] == ["s3:PutObject"]:
            assert st["Resource"] == {"Sub": "${RecordingsBucket.Arn}/audio/*"}
        if st["Action"] == ["dynamodb:PutItem"]:
            assert st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["AUDIO#*"]
    assert sorted(actions) == ["dynamodb:PutItem", "s3:PutObject", "secretsmanager:GetSecretValue"]


def test_the_dockerfile_is_multi_stage_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    froms = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(froms) >= 2 and "distroless" in froms[-1]
    assert "USER 65532" in text and "HEALTHCHECK" in text


def test_a_provider_request_ends_well_before_its_function():
    """A provider request (an SMS send, a purchase) gives up with time left
    for the function to act on it: give a text's claim back, answer 503.
    Issue 18: the limit equalled the functions' 10 s, so a slow send was
    cut with the function and the text was left claimed."""
    rest = (ROOT / "shared/src/rest.rs").read_text()
    m = re.search(r"pub const REQUEST_TIMEOUT: Duration = Duration::from_secs\((\d+)\);", rest)
    assert m, "REQUEST_TIMEOUT in shared/src/rest.rs"
    request_timeout = int(m.group(1))
    default = template()["Globals"]["Function"]["Timeout"]
    for name, res in template()["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        timeout = res["Properties"].get("Timeout", default)
        assert request_timeout + 3 <= timeout, (name, request_timeout, timeout)
