"""The emulator's fault switch (scripts/stack.py, `/_emulator/faults`):
each service fails as AWS fails it, so boto3 (like the Rust SDK) reads the
error code AWS would send; a timeout leaves the request unanswered, a slow
answer comes late; a rule fails only what it names, and only `count` times."""
import sys
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from helpers.stack import ROOT, free_port

sys.path.insert(0, str(ROOT / "scripts"))

import stack as stack_py  # noqa: E402

# One attempt per call: each fault is seen as the service sent it.
ONCE = Config(retries={"total_max_attempts": 1, "mode": "standard"}, region_name="us-east-1")


@pytest.fixture(scope="module")
def emulator():
    port = free_port()
    server = stack_py.Emulator(port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    yield url
    server.stop()


@pytest.fixture(scope="module")
def aws(emulator):
    def client(name):
        return boto3.client(name, endpoint_url=emulator, config=ONCE,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return client


def arm(url, **rule):
    r = requests.post(url + "/_emulator/faults", json=rule)
    assert r.status_code == 201, r.text


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_each_service_fails_as_aws_does(emulator, aws):
    ddb, s3, ses, sm = aws("dynamodb"), aws("s3"), aws("ses"), aws("secretsmanager")
    ddb.create_table(TableName="faults-t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.create_table(TableName="other-t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    s3.create_bucket(Bucket="faults-b")
    ses.verify_email_identity(EmailAddress="from@example.com")
    sm.create_secret(Name="faults-s", SecretString="v")

    def get(table):
        return ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})

    arm(emulator, service="dynamodb", operation="GetItem", kind="throttle", contains="faults-t")
    get("other-t")  # not named by the rule
    assert error_of(lambda: get("faults-t")) == ("ProvisionedThroughputExceededException", 400)
    get("faults-t")  # count 1: spent
    arm(emulator, service="dynamodb", operation="GetItem", kind="5xx", contains="faults-t")
    assert error_of(lambda: get("faults-t")) == ("InternalServerError", 500)

    arm(emulator, service="s3", operation="PutObject", kind="throttle", contains="faults-b")
    put = lambda: s3.put_object(Bucket="faults-b", Key="k", Body=b"x")  # noqa: E731
    assert error_of(put) == ("SlowDown", 503)
    put()
    arm(emulator, service="s3", operation="GetObject", kind="5xx", contains="faults-b")
    assert error_of(lambda: s3.get_object(Bucket="faults-b", Key="k")) == ("InternalError", 500)

    def send():
        return ses.send_email(Source="from@example.com", Destination={"ToAddresses": ["to@example.com"]},
                              Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})

    arm(emulator, service="ses", operation="SendEmail", kind="throttle", contains="to@example.com")
    assert error_of(send) == ("Throttling", 400)
    send()

    arm(emulator, service="secretsmanager", operation="GetSecretValue", kind="throttle", contains="faults-s")
    assert error_of(lambda: sm.get_secret_value(SecretId="faults-s")) == ("ThrottlingException", 400)
    arm(emulator, service="secretsmanager", operation="GetSecretValue", kind="5xx", status=503,
        contains="faults-s")
    assert error_of(lambda: sm.get_secret_value(SecretId="faults-s")) == ("InternalServiceError", 503)
    assert sm.get_secret_value(SecretId="faults-s")["SecretString"] == "v"

    listed = requests.get(emulator + "/_emulator/faults").json()
    assert [(r["service"], r["kind"], r["fired"], r["remaining"]) for r in listed] == [
        ("dynamodb", "throttle", 1, 0), ("dynamodb", "5xx", 1, 0), ("s3", "throttle", 1, 0), ("s3", "5xx", 1, 0),
        ("ses", "throttle", 1, 0), ("secretsmanager", "throttle", 1, 0), ("secretsmanager", "5xx", 1, 0)]
    assert requests.delete(emulator + "/_emulator/faults").json() == []


def test_a_timeout_goes_unanswered_and_slow_comes_late(emulator, aws):
    ddb = aws("dynamodb")
    arm(emulator, service="dynamodb", operation="ListTables", kind="timeout", delay_ms=100)
    with pytest.raises(ConnectionClosedError):
        ddb.list_tables()
    arm(emulator, service="dynamodb", operation="ListTables", kind="slow", delay_ms=300)
    started = time.monotonic()
    ddb.list_tables()
    assert time.monotonic() - started >= 0.3


def test_bad_rules_are_refused(emulator):
    faults = emulator + "/_emulator/faults"
    for rule in ({"service": "sqs", "kind": "throttle"}, {"service": "s3", "kind": "flaky"},
                 {"service": "s3", "kind": "5xx", "count": 0}, {"service": "s3", "kind": "5xx", "status": 404}):
        r = requests.post(faults, json=rule)
        assert r.status_code == 400 and "error" in r.json(), rule
    assert requests.post(faults, data=b"{not json").status_code == 400
    assert requests.put(faults).status_code == 405
