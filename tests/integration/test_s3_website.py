"""S3 static website hosting through the gateway: website endpoint hosts, index and error documents,
folder redirects, object redirects, RedirectAllRequestsTo, routing rules, and S3's HTML error pages."""

from __future__ import annotations

import uuid

import httpx
import pytest


@pytest.fixture
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=10, follow_redirects=False) as client:
        yield client


@pytest.fixture
def site(s3, bucket):
    """A bucket with an index and error document and a few pages."""
    pages = {
        "index.html": b"<h1>home</h1>",
        "docs/index.html": b"<h1>docs</h1>",
        "docs/page.html": b"<p>page</p>",
        "error.html": b"<p>oops</p>",
    }
    for key, body in pages.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/html", CacheControl="max-age=60")
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
        },
    )
    return bucket


def host(bucket: str, form: str = "localstack") -> str:
    return {
        "localstack": f"{bucket}.s3-website.localhost.localstack.cloud",
        "dash-region": f"{bucket}.s3-website-us-east-1.amazonaws.com",
        "dot-region": f"{bucket}.s3-website.eu-west-1.amazonaws.com",
    }[form]


def get(
    http: httpx.Client, bucket: str, path: str, method: str = "GET", form: str = "localstack"
) -> httpx.Response:
    return http.request(method, path, headers={"Host": host(bucket, form)})


@pytest.mark.parametrize("form", ["localstack", "dash-region", "dot-region"])
def test_every_website_host_form_serves_the_index_document(http, site, form):
    r = get(http, site, "/", form=form)
    assert r.status_code == 200, r.text
    assert r.content == b"<h1>home</h1>"
    assert r.headers["content-type"] == "text/html"
    assert r.headers["cache-control"] == "max-age=60"
    assert r.headers["etag"].startswith('"') and r.headers["last-modified"].endswith("GMT")


def test_folders_serve_their_index_and_keys_serve_themselves(http, site):
    assert get(http, site, "/docs/").content == b"<h1>docs</h1>"
    assert get(http, site, "/docs/page.html").content == b"<p>page</p>"
    head = get(http, site, "/docs/page.html", method="HEAD")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(b"<p>page</p>"))


def test_a_folder_without_its_slash_is_redirected(http, site):
    r = get(http, site, "/docs")
    assert r.status_code == 302 and r.headers["location"] == "/docs/"


def test_a_missing_key_serves_the_error_document_with_404(http, site):
    r = get(http, site, "/nope.html")
    assert r.status_code == 404
    assert r.content == b"<p>oops</p>" and r.headers["content-type"] == "text/html"


def test_a_missing_error_document_is_reported_on_the_error_page(s3, http, site):
    s3.delete_object(Bucket=site, Key="error.html")
    r = get(http, site, "/nope.html")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in r.text
    assert "<li>Code: NoSuchKey</li>" in r.text and "<li>Key: nope.html</li>" in r.text
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in r.text
    assert "<li>Key: error.html</li>" in r.text


def test_without_error_document_s3s_html_page(s3, http, bucket):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    r = get(http, bucket, "/")
    assert r.status_code == 404
    assert r.text.startswith("<html>\n<head><title>404 Not Found</title></head>")
    assert "<li>Message: The specified key does not exist.</li>" in r.text
    assert "<li>Key: index.html</li>" in r.text and "<li>RequestId: " in r.text
    assert "Custom Error Document" not in r.text


def test_bucket_without_website_configuration_or_missing_bucket(http, bucket):
    r = get(http, bucket, "/")
    assert r.status_code == 404 and "<li>Code: NoSuchWebsiteConfiguration</li>" in r.text
    assert f"<li>BucketName: {bucket}</li>" in r.text
    r = get(http, "no-such-" + uuid.uuid4().hex[:8], "/")
    assert r.status_code == 404 and "<li>Code: NoSuchBucket</li>" in r.text


def test_only_get_and_head_are_allowed(http, site):
    r = get(http, site, "/index.html", method="PUT")
    assert r.status_code == 405 and "<li>Code: MethodNotAllowed</li>" in r.text
    assert "<li>Method: PUT</li>" in r.text
    r = get(http, site, "/", method="POST")
    assert r.status_code == 405


def test_object_website_redirect_location(s3, http, site):
    s3.put_object(Bucket=site, Key="old.html", Body=b"", WebsiteRedirectLocation="/docs/page.html")
    r = get(http, site, "/old.html")
    assert r.status_code == 301 and r.headers["location"] == "/docs/page.html"


def test_redirect_all_requests(s3, http, bucket):
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}},
    )
    r = get(http, bucket, "/a/b.html")
    assert r.status_code == 301 and r.headers["location"] == "https://example.com/a/b.html"
    s3.put_bucket_website(
        Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "x.test"}}
    )
    assert get(http, bucket, "/").headers["location"] == "http://x.test/"


def test_routing_rules(s3, http, site):
    rules = [
        {"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "docs/"}},
        {
            "Condition": {"KeyPrefixEquals": "gone"},
            "Redirect": {"ReplaceKeyWith": "index.html", "HttpRedirectCode": "307", "HostName": "h.test"},
        },
        {
            "Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "img/"},
            "Redirect": {"HostName": "cdn.test", "Protocol": "https"},
        },
    ]
    s3.put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
            "RoutingRules": rules,
        },
    )
    web = host(site)
    r = get(http, site, "/old/page.html")
    assert r.status_code == 301 and r.headers["location"] == f"http://{web}/docs/page.html"
    r = get(http, site, "/gone/anything")
    assert r.status_code == 307 and r.headers["location"] == "http://h.test/index.html"
    r = get(http, site, "/img/missing.png")
    assert r.status_code == 301 and r.headers["location"] == "https://cdn.test/img/missing.png"
    s3.put_object(Bucket=site, Key="img/there.png", Body=b"png")
    assert get(http, site, "/img/there.png").content == b"png"  # the error rule needs the error
    assert get(http, site, "/other.html").content == b"<p>oops</p>"


def test_the_rest_api_is_unchanged_for_the_same_bucket(s3, site):
    assert s3.get_object(Bucket=site, Key="index.html")["Body"].read() == b"<h1>home</h1>"
