"""NCCOs read with Vonage's own models (`vonage-voice`)."""
from vonage_voice.models.ncco import Connect, Talk

MODELS = {"talk": Talk, "connect": Connect}


def check_ncco(resp) -> list:
    """Parse an NCCO with the official models; fail on anything they would
    not produce (unknown fields, wrong shapes)."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    ncco = resp.json()
    assert isinstance(ncco, list) and ncco, ncco
    for action in ncco:
        model = MODELS[action["action"]]
        data = dict(action)
        if "from" in data:
            data["from_"] = data.pop("from")
        if "endpoint" in data:
            # The models take a websocket's `content-type` by its field name.
            data["endpoint"] = [{("contentType" if k == "content-type" else k): v for k, v in e.items()}
                                for e in data["endpoint"]]
        parsed = model.model_validate(data)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == action
    return ncco
