"""The chat answer (``services.answer``) as a LINE Messaging API Flex Message.

Plain JSON our code builds, for a municipality's LINE account to send as it is (no vendor SDK,
no outbound call).

The shape follows LINE's Messaging API reference (Flex Message: ``type`` "flex", ``altText``,
``contents`` a bubble of header/body/footer boxes; text components; a button with a URI action)
and its OpenAPI document (github.com/line/line-openapi, messaging-api.yml). Limits from the
reference: altText at most 1,500 characters (shown in notifications, chat lists and screen
readers, so it is the whole answer as text), a URI at most 1,000 characters, a button's label
short (at most 20 characters here: the smallest limit LINE gives a label).
"""

from __future__ import annotations

from typing import Any, Literal

ALT_TEXT_MAX = 1500
URI_MAX = 1000
LABEL_MAX = 20
GREY = "#666666"
EMERGENCY_RED = "#B71C1C"
ROUTE_LABEL = {"ja": "徒歩の経路を開く", "en": "Walking route"}
SOURCE = {"ja": "出典：{}", "en": "Source: {}"}
TITLE = {"ja": "{hazard}：{place}", "en": "{hazard}: {place}"}
NO_PLACE = {"ja": "この場所", "en": "This place"}


def _text(value: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, "wrap": True, **style}


def flex_message(answer: dict[str, Any], lang: Literal["ja", "en"]) -> dict[str, Any]:
    """One Flex Message (a bubble) saying what ``answer``'s lines say, in ``lang``.

    The header names the hazard and the place; the body what applies, what to do with its
    source, each emergency message and where to go; the footer a button to the walking route.
    """
    place = answer["place"][lang] if answer["place"] else NO_PLACE[lang]
    title = TITLE[lang].format(hazard=answer["hazard"]["label"][lang], place=place)
    applies = answer["applies"]
    body: list[dict[str, Any]] = [_text(applies["text"][lang], weight="bold")]
    advice = applies["advice"]
    if advice:
        body.append(_text(advice["text"][lang]))
        body.append(_text(SOURCE[lang].format(advice["source"][lang]), size="xs", color=GREY))
    for emergency in answer["emergencies"]:
        body.append(_text(emergency["text"][lang], color=EMERGENCY_RED, weight="bold"))
    body.append({"type": "separator", "margin": "md"})
    body.append(_text(answer["site_text"][lang], margin="md"))
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [_text(title, weight="bold", size="lg")],
        },
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    site = answer["site"]
    if site and len(site["route"]) <= URI_MAX:
        button = {
            "type": "button",
            "style": "primary",
            "action": {"type": "uri", "label": ROUTE_LABEL[lang][:LABEL_MAX], "uri": site["route"]},
        }
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [button]}
    alt = "\n".join(answer["lines"][lang])
    return {"type": "flex", "altText": alt[:ALT_TEXT_MAX], "contents": bubble}
