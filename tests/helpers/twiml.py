"""TwiML answers checked against the verbs and attributes Twilio documents."""
import xml.etree.ElementTree as ET


def parse_twiml(resp, documented: dict) -> ET.Element:
    """A 200 XML `<Response>` whose every element and attribute is in
    `documented` (verb -> attributes)."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].split(";")[0] in ("text/xml", "application/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == "Response"
    for el in root.iter():
        assert el.tag in documented, el.tag
        assert set(el.attrib) <= documented[el.tag], (el.tag, el.attrib)
    return root
