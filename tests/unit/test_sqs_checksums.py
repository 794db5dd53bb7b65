"""MD5 digests of SQS messages, against digests AWS returned (pinned by moto's and LocalStack's suites)."""

from services.sqs.checksums import md5_hex, md5_of_attributes


def number(value: str) -> dict:
    return {"DataType": "Number", "StringValue": value}


def test_body_digest_is_md5_of_utf8():
    assert md5_hex("derp") == "58fd9edd83341c29f1aebba81c31e257"
    assert md5_hex("This is a test message") == "fafb00f5732ab283681e124bf8747ed1"


def test_single_attribute_digests_as_aws():
    assert md5_of_attributes({"timestamp": number("1493147359900")}) == "235c5c510d26fb653d073faed50ae77c"
    assert md5_of_attributes({"timestamp": number("1493147359901")}) == "994258b45346a2cc3f9cbb611aa7af30"
    assert (
        md5_of_attributes({"SOME_Valid.attribute-Name": number("1493147359900")})
        == "36655e7e9d7c0e8479fa3f3f42247ae7"
    )


def test_mixed_attributes_digest_in_name_order_with_binary_transport():
    attributes = {
        "ccc": {"StringValue": "testjunk", "DataType": "String"},
        "aaa": {"BinaryValue": b"\x02\x03\x04", "DataType": "Binary"},
        "zzz": {"DataType": "Number", "StringValue": "0230.01"},
        "öther_encodings": {"DataType": "String", "StringValue": "T\xfcst"},
    }
    assert md5_of_attributes(attributes) == "8ae21a7957029ef04146b42aeaa18a22"
    assert md5_of_attributes(dict(reversed(list(attributes.items())))) == "8ae21a7957029ef04146b42aeaa18a22"


def test_no_attributes_no_digest():
    assert md5_of_attributes({}) is None
    assert md5_of_attributes(None) is None


def test_system_attribute_digest_uses_the_same_encoding():
    trace = {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}
    }
    name, value = b"AWSTraceHeader", b"Root=1-5759e988-bd862e3fe1be46a994272793"
    raw = (
        len(name).to_bytes(4, "big") + name + (6).to_bytes(4, "big") + b"String" + b"\x01"
        + len(value).to_bytes(4, "big") + value
    )  # fmt: skip
    assert md5_of_attributes(trace) == md5_hex(raw)
