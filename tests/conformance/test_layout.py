"""The local stack is the template: same routes, same table."""
import subprocess

import boto3
import requests
import yaml

from conftest import ROOT, ROUTER


class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _tag)


def template():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)


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


def test_admin_routes_use_iam_and_webhooks_do_not():
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for ev in res["Properties"]["Events"].values():
            if ev["Type"] != "HttpApi":
                continue
            p = ev["Properties"]
            is_webhook = p["Path"].startswith(("/vonage/", "/twilio/"))
            assert (p.get("Auth", {}).get("Authorizer") == "AWS_IAM") != is_webhook, p


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


def test_recordings_expire_with_their_noncurrent_versions():
    rules = template()["Resources"]["RecordingsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any("ExpirationInDays" in r and "NoncurrentVersionExpiration" in r
               and "AbortIncompleteMultipartUpload" in r for r in rules), rules
