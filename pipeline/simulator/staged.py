"""Files of bulk operations: staged uploads of JSONL variables, and result files, served by the simulator.

Shopify answers `stagedUploadsCreate(resource: BULK_MUTATION_VARIABLES, httpMethod: POST)` with a
Google Cloud Storage form: a `url` and `parameters` to POST as multipart fields, the file last; the
bucket answers 201 with an XML `PostResponse`, and the `key` parameter is the `stagedUploadPath`
(shopify.dev bulk-operations/imports). Here the simulator itself is the bucket, at `UPLOAD_PATH`;
result files are served by GET at `FILES_PREFIX<name>`, without the access token, as Shopify's are.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from pipeline.simulator.reply import Reply

FILES_PREFIX = "/_simulator/bulk/"
UPLOAD_PATH = FILES_PREFIX + "staged-uploads"
MAX_UPLOAD = 100 * 1024 * 1024  # 100 MB per JSONL file (the "faster bulk operations" changelog)
XML = {"Content-Type": "application/xml; charset=UTF-8"}
BULK_RESOURCE = "BULK_MUTATION_VARIABLES"


def _xml_error(status: int, code: str, message: str) -> Reply:
    head = "<?xml version='1.0' encoding='UTF-8'?>"
    body = f"{head}<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Reply(status, body.encode(), dict(XML))


@dataclass
class Files:
    """Issued upload targets, uploaded variables and written results (on disk, never all in memory)."""

    base_url: str = "http://127.0.0.1"
    shop_id: int = 1
    folder: Path | None = None  # made on first use: most simulators never run a bulk operation
    _issued: dict[str, dict[str, str]] = field(default_factory=dict)  # key → its form parameters
    _uploaded: dict[str, Path] = field(default_factory=dict)  # key → the uploaded file
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stage(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """The `stagedUploadsCreate` payload: one POST form per input."""
        targets, errors = [], []
        for k, item in enumerate(inputs):
            if item["resource"] != BULK_RESOURCE:  # the simulator keeps no media
                errors.append(
                    {"field": ["input", str(k), "resource"], "message": "Resource is not supported"}
                )
                continue
            key = f"tmp/{self.shop_id}/bulk/{uuid.uuid4()}/{item['filename']}"
            digest = hashlib.sha256(key.encode()).hexdigest()
            params = {
                "Content-Type": item["mimeType"],
                "success_action_status": "201",
                "acl": "private",
                "key": key,
                "x-goog-date": "20260101T000000Z",
                "x-goog-credential": "simulator/20260101/auto/storage/goog4_request",
                "x-goog-algorithm": "GOOG4-RSA-SHA256",
                "x-goog-signature": digest,
                "policy": digest[:48],
            }
            with self._lock:
                self._issued[key] = params
            targets.append(
                {
                    "url": self.base_url + UPLOAD_PATH,
                    "resourceUrl": None,  # null for BULK_MUTATION_VARIABLES (community thread 70848)
                    "parameters": [{"name": n, "value": v} for n, v in params.items()],
                }
            )
        return {"stagedTargets": targets if not errors else None, "userErrors": errors}

    def upload(self, headers: dict[str, str], body: bytes) -> Reply:
        """POST of the multipart form to the bucket: 201 with the key, or the bucket's XML error."""
        if len(body) > MAX_UPLOAD + 64 * 1024:
            return _xml_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        fields: dict[str, str] = {}
        content: bytes | None = None
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name == "file":
                content = payload if isinstance(payload, bytes) else b""
            elif isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode("utf-8")
        key = fields.get("key", "")
        with self._lock:
            issued = self._issued.get(key)
        if content is None or issued is None:
            return _xml_error(400, "InvalidArgument", "Invalid argument.")
        if any(fields.get(name) != value for name, value in issued.items()):
            return _xml_error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed.")
        path = self.root() / f"upload-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsonl"
        path.write_bytes(content)
        with self._lock:
            self._uploaded[key] = path
        etag = hashlib.md5(content).hexdigest()  # an ETag, as the bucket computes it
        body_xml = (
            "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
            f"<Location>{self.base_url}{UPLOAD_PATH}/{key}</Location><Bucket>shopify-staged-uploads</Bucket>"
            f'<Key>{key}</Key><ETag>"{etag}"</ETag></PostResponse>'
        )
        return Reply(201, body_xml.encode(), dict(XML))

    def root(self) -> Path:
        """The folder of this shop's bulk files (temporary: they live as long as the process)."""
        with self._lock:
            if self.folder is None:
                self.folder = Path(tempfile.mkdtemp(prefix="bulkcancel-sim-bulk-"))
            return self.folder

    def uploaded(self, key: str) -> Path | None:
        """The file uploaded under a `stagedUploadPath`, or None."""
        with self._lock:
            return self._uploaded.get(key)

    def result_path(self, name: str) -> Path:
        """Where the result file `name` is written."""
        return self.root() / name

    def url(self, name: str) -> str:
        return f"{self.base_url}{FILES_PREFIX}{name}"

    def serve(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """The bucket's side of HTTP: uploads by POST, result files by GET."""
        if path == UPLOAD_PATH and method == "POST":
            return self.upload(headers, body)
        name = path[len(FILES_PREFIX) :]
        target = self.root() / name
        if method != "GET" or "/" in name or not name.endswith(".jsonl") or not target.is_file():
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        return Reply(200, target.read_bytes(), {"Content-Type": "application/jsonl"})
