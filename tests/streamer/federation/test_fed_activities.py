"""The activities of a publication, built pure and read back by an independent JSON-LD processor.

bovine (``bovine.jsonld``, PyLD underneath) expands what we build: the terms
must land on the ActivityStreams and artdag IRIs, the provenance record must
survive as a JSON literal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bovine.jsonld import with_bovine_context
from pyld import jsonld

from streamer.federation import activities
from streamer.federation.activities import (
    ARTDAG_NS,
    PUBLIC,
    Audience,
    MediaSource,
    Playlist,
)

AS = "https://www.w3.org/ns/activitystreams#"
CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
L1 = "https://l1.example"
WHEN = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
PROVENANCE = {
    "task_id": "job-1",
    "rendered_at": "2026-12-06T11:59:00Z",
    "rendered_by": "@alice@l2.example",
    "output": {"name": "dog.mp4", "cid": CID},
    "inputs": [{"name": "video", "cid": "QmInput"}],
    "effects": [{"name": "invert", "version": "0.1.0"}],
    "infrastructure": {
        "software": {"name": "infra:artdag", "cid": "QmSoft"},
        "hardware": {"name": "infra:box", "cid": "QmHard"},
    },
}


def _video(**changes: Any) -> MediaSource:
    fields: dict[str, Any] = {
        "cid": CID,
        "kind": "video",
        "media_type": "video/mp4",
        "name": "Dog <3",
        "description": "a dog\nrendered",
        "size": 12345,
        "duration": 2.5,
        "width": 320,
        "height": 240,
        "gateway_url": f"https://ipfs.example/ipfs/{CID}",
        "playlist": Playlist("https://ipfs.example/ipfs/QmPlaylist", multivariant=True),
        "poster_url": f"{L1}/cache/{CID}/poster.jpg",
        "provenance": PROVENANCE,
        "recipe_id": "r" * 64,
        "run_id": "run-1",
    }
    fields.update(changes)
    return MediaSource(**fields)


AUDIENCE = Audience(
    actor=f"{L1}/actor",
    user="https://l2.example/users/alice",
    account="alice@l2.example",
    followers="https://l2.example/users/alice/followers",
)


def _create(src: MediaSource | None = None, audience: Audience = AUDIENCE) -> dict[str, Any]:
    oid = activities.object_id(L1, CID)
    obj = activities.build_object(src or _video(), audience, object_id=oid, published=WHEN)
    return activities.build_activity(
        "Create",
        activity_id=activities.activity_id(L1, CID, "a1"),
        obj=obj,
        audience=audience,
        published=WHEN,
    )


def test_create_of_a_video_carries_what_the_issue_lists() -> None:
    create = _create()
    obj = create["object"]
    assert create["type"] == "Create" and create["actor"] == f"{L1}/actor"
    assert create["id"] == f"{L1}/cache/{CID}/activities/a1"
    assert obj["id"] == f"{L1}/cache/{CID}/object" == activities.object_id(L1 + "/", CID)
    assert obj["type"] == "Video" and obj["name"] == "Dog <3"
    assert obj["content"] == "a dog<br>rendered"
    assert obj["duration"] == "PT2.5S" and obj["size"] == 12345
    # attributed to the sending actor (receivers require it); the user is mentioned
    assert obj["attributedTo"] == f"{L1}/actor"
    assert obj["tag"] == [
        {"type": "Mention", "href": "https://l2.example/users/alice", "name": "@alice@l2.example"}
    ]
    assert obj["icon"]["url"].endswith("/poster.jpg")
    hrefs = {link["href"]: link for link in obj["url"]}
    assert hrefs[f"https://ipfs.example/ipfs/{CID}"]["mediaType"] == "video/mp4"
    assert f"ipfs://{CID}" in hrefs
    playlist = hrefs["https://ipfs.example/ipfs/QmPlaylist"]
    assert playlist["mediaType"] == "application/vnd.apple.mpegurl" and playlist["multivariant"]
    assert obj["provenance"] == PROVENANCE and obj["cid"] == CID
    names = {a["name"]: a["value"] for a in obj["attachment"]}
    assert names["CID"] == CID and names["Effects"] == "invert 0.1.0"
    assert names["Inputs"] == "video=QmInput" and "QmSoft" in names["Software"]
    # addressed to the user's followers, public in cc, the user named
    assert create["to"] == obj["to"] == ["https://l2.example/users/alice/followers"]
    assert create["cc"] == obj["cc"] == [PUBLIC, "https://l2.example/users/alice"]


@pytest.mark.parametrize(
    ("kind", "media_type", "expected"),
    [("image", "image/png", "Image"), ("audio", "audio/wav", "Audio"), ("hls", "x", "Video")],
)
def test_object_type_follows_the_kind(kind: str, media_type: str, expected: str) -> None:
    src = _video(kind=kind, media_type=media_type, playlist=None, duration=None, width=None)
    obj = _create(src)["object"]
    assert obj["type"] == expected
    assert "duration" not in obj and "width" not in obj


def test_kinds_that_are_not_media_are_refused() -> None:
    for kind in ("plan", "analysis", "other"):
        with pytest.raises(ValueError, match="cannot be published"):
            activities.object_type(kind)


def test_unknown_user_is_addressed_publicly_and_mentions_nobody() -> None:
    create = _create(audience=Audience(actor=f"{L1}/actor"))
    assert create["to"] == [PUBLIC] and create["cc"] == []
    assert create["object"]["attributedTo"] == f"{L1}/actor"
    assert "tag" not in create["object"]


def create_actor(activity: dict[str, Any]) -> str:
    return str(activity["actor"])


def test_readdress_fills_in_what_l2_told() -> None:
    draft = _create(audience=Audience(actor=f"{L1}/actor"))
    sent = activities.readdress(draft, AUDIENCE)
    assert sent["to"] == sent["object"]["to"] == [AUDIENCE.followers]
    assert sent["object"]["attributedTo"] == create_actor(sent)
    assert sent["object"]["tag"][0]["href"] == AUDIENCE.user
    assert draft["to"] == [PUBLIC] and "tag" not in draft["object"]  # left as it was
    delete = activities.build_activity(
        "Delete",
        activity_id="x",
        obj=activities.tombstone(activities.object_id(L1, CID), "Video", WHEN),
        audience=Audience(actor=f"{L1}/actor"),
        published=WHEN,
    )
    readdressed = activities.readdress(delete, AUDIENCE)
    assert readdressed["object"] == delete["object"]  # a Tombstone is not addressed
    assert readdressed["object"]["formerType"] == "Video"
    assert readdressed["to"] == [AUDIENCE.followers]


@pytest.mark.parametrize(
    ("seconds", "text"), [(2.5, "PT2.5S"), (60, "PT60S"), (0, "PT0S"), (1 / 3, "PT0.333S")]
)
def test_iso_duration(seconds: float, text: str) -> None:
    assert activities.iso_duration(seconds) == text


def test_unknown_activity_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown activity type"):
        activities.build_activity(
            "Like",  # type: ignore[arg-type]
            activity_id="x",
            obj={},
            audience=AUDIENCE,
            published=WHEN,
        )


def test_an_independent_json_ld_processor_reads_our_terms() -> None:
    create = _create()
    expanded = jsonld.expand(create)
    assert expanded[0]["@type"] == [AS + "Create"]
    obj = expanded[0][AS + "object"][0]
    assert obj["@type"] == [AS + "Video"]
    assert obj[AS + "duration"][0]["@value"] == "PT2.5S"
    assert obj[ARTDAG_NS + "cid"][0]["@value"] == CID
    assert obj[ARTDAG_NS + "size"][0]["@value"] == 12345
    assert obj[ARTDAG_NS + "provenance"][0] == {"@type": "@json", "@value": PROVENANCE}
    assert obj[AS + "attributedTo"][0]["@id"] == f"{L1}/actor"
    assert obj[AS + "tag"][0][AS + "href"][0]["@id"] == AUDIENCE.user
    # bovine's own view (the context its server stores with) keeps the AS terms
    compacted = with_bovine_context(create)
    assert compacted["type"] == "Create" and compacted["object"]["type"] == "Video"
    assert compacted["object"]["attributedTo"] == create["actor"]
