"""Records that hang off a function (policies, event invoke configs, ...): kinds, ids, and cleanup.

All live in ``shared.records`` in the function's account and region. ``<q>`` below is the
qualifier (version or alias), ``$LATEST`` for the unqualified function.

| kind | id | doc |
|---|---|---|
| ``policy`` | ``<name>:<q>`` | ``{"Statement": [IAM statement, ...], "RevisionId": str}`` |
| ``event-invoke-config`` | ``<name>:<q>`` | the FunctionEventInvokeConfig output shape (``LastModified`` a datetime, ``FunctionArn`` qualified) |
| ``provisioned-concurrency`` | ``<name>:<q>`` | ``{"FunctionName", "Qualifier", "RequestedProvisionedConcurrentExecutions", "LastModified"}`` |
| ``runtime-management-config`` | ``<name>:<q>`` | ``{"UpdateRuntimeOn", "RuntimeVersionArn"?}`` |
| ``recursion-config`` | ``<name>`` | ``{"RecursiveLoop"}`` |
| ``function-code-signing`` | ``<name>`` | ``{"CodeSigningConfigArn"}`` |
| ``code-signing-config`` | ``csc-...`` | the CodeSigningConfig shape plus ``"Tags"`` (not per function) |

Function URLs are in ``urls_config``. Reserved concurrency and tags live in the function record
itself (``doc["Concurrency"]``, ``doc["Tags"]``).
"""

from __future__ import annotations

from shared.records import RecordStore

from . import urls_config

LATEST = "$LATEST"

POLICY = "policy"
EVENT_INVOKE_CONFIG = "event-invoke-config"
PROVISIONED_CONCURRENCY = "provisioned-concurrency"
RUNTIME_MANAGEMENT = "runtime-management-config"
RECURSION = "recursion-config"
FUNCTION_CODE_SIGNING = "function-code-signing"
CODE_SIGNING_CONFIG = "code-signing-config"

QUALIFIED_KINDS = (POLICY, EVENT_INVOKE_CONFIG, PROVISIONED_CONCURRENCY, RUNTIME_MANAGEMENT)
FUNCTION_KINDS = (RECURSION, FUNCTION_CODE_SIGNING)


def key(name: str, qualifier: str | None) -> str:
    return f"{name}:{qualifier or LATEST}"


def forget_function(
    records: RecordStore, account: str, region: str, name: str, qualifier: str | None = None
) -> None:
    """Drop what belongs to a deleted function (or, with ``qualifier``, to one deleted version or alias).

    DeleteFunction must call this, or a function created again under the same name would find
    the old one's policy, URL and configs.
    """
    for kind in QUALIFIED_KINDS:
        for id_, _ in list(records.list(account, region, kind)):
            fn, _, q = id_.rpartition(":")
            if fn == name and (qualifier is None or q == qualifier):
                records.delete(account, region, kind, id_)
    if qualifier is None:
        for kind in FUNCTION_KINDS:
            records.delete(account, region, kind, name)
    for doc in urls_config.of_function(records, account, region, name):
        if qualifier is None or doc.get("Qualifier") == qualifier:
            urls_config.delete(records, account, region, doc)
