"""The actor key pair: made once, kept 0600 beside cluster.key, shared by racing processes."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from streamer.errors import Unavailable
from streamer.federation.actor_keys import ACTOR_KEY_FILE, load_or_create_actor_keys
from streamer.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"ARTDAG_DATA_DIR": str(tmp_path), "L1_PUBLIC_URL": "https://l1.example/"}
    )


def test_made_once_and_reloaded(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    keys = load_or_create_actor_keys(settings)
    assert keys.key_id == "https://l1.example/actor#main-key"
    assert keys.actor == "https://l1.example/actor"
    assert keys.private_key.key_size == 2048
    path = tmp_path / ACTOR_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = serialization.load_pem_public_key(keys.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == keys.private_key.public_key().public_numbers()
    again = load_or_create_actor_keys(settings)
    assert again.public_pem == keys.public_pem
    assert [p.name for p in tmp_path.iterdir()] == [ACTOR_KEY_FILE]  # no temporary file left


def test_racing_processes_share_one_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        pems = {
            k.public_pem for k in pool.map(lambda _: load_or_create_actor_keys(settings), range(4))
        }
    assert pems == {load_or_create_actor_keys(settings).public_pem}


def test_a_broken_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / ACTOR_KEY_FILE).write_text("not a key")
    with pytest.raises(Unavailable, match=ACTOR_KEY_FILE):
        load_or_create_actor_keys(_settings(tmp_path))
