"""Encryption at rest for the few stored values that must not sit in clear text (refund
bank accounts), with Fernet from the ``cryptography`` package (AES-128-CBC + HMAC-SHA256).

The key comes from ``DATA_ENCRYPTION_KEY`` (a Fernet key: ``python -c "from
cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``), else it is
generated once into ``instance/data_key`` like the session secret. Several comma-separated
keys rotate: the first encrypts, all decrypt. Losing the key loses the sealed values.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

KEY_FILE = "data_key"


def data_key(instance_path: str) -> str:
    """``DATA_ENCRYPTION_KEY`` from the environment, else one generated once into the instance folder."""
    if os.environ.get("DATA_ENCRYPTION_KEY"):
        return os.environ["DATA_ENCRYPTION_KEY"]
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in str(current_app.config["DATA_ENCRYPTION_KEY"]).split(",") if k.strip()]
    return MultiFernet([Fernet(k) for k in keys])


def seal(data: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def unseal(token: str) -> dict[str, Any]:
    return json.loads(_fernet().decrypt(token.encode()))
