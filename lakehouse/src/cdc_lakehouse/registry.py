"""The schema registry as the writer needs it: the writer schema of an id, through the Confluent-compatible
API (`GET <url>/schemas/ids/<id>`; Apicurio Registry serves it under /apis/ccompat/v7). A schema id never
changes its schema, so each is fetched once per process."""
from __future__ import annotations

import json
from typing import Any

import requests

from .config import SchemaRegistry


def _read(path: str | None) -> str:
    with open(path or "") as f:
        return f.read().strip()


class RegistryUnavailable(Exception):
    """The registry did not answer or answered with an error other than "no such schema": not the record's fault,
    so the batch ends and is retried (PipelineRunner.run), instead of the record being dead-lettered."""


class UnknownSchema(Exception):
    """The registry has no schema under the id the record carries."""


class RegistryClient:
    def __init__(self, settings: SchemaRegistry, timeout_s: float = 10.0):
        self.url = settings.url.rstrip("/")
        self._timeout = timeout_s
        self._session = requests.Session()
        if settings.ca_file:
            self._session.verify = settings.ca_file
        if settings.cert_file:
            self._session.cert = (settings.cert_file, settings.key_file) if settings.key_file else settings.cert_file
        if settings.username or settings.username_file:
            self._session.auth = (settings.username or _read(settings.username_file), _read(settings.password_file))
        self._schemas: dict[int, Any] = {}

    def schema(self, schema_id: int) -> Any:
        """The parsed writer schema (Avro JSON) registered under `schema_id`."""
        cached = self._schemas.get(schema_id)
        if cached is None:
            cached = self._schemas[schema_id] = self._fetch(schema_id)
        return cached

    def _fetch(self, schema_id: int) -> Any:
        where = f"{self.url}/schemas/ids/{schema_id}"
        try:
            answer = self._session.get(where, timeout=self._timeout, headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"})
        except requests.RequestException as e:
            raise RegistryUnavailable(f"schema registry {where}: {e} (check schema_registry.url and that the registry runs)") from e
        if answer.status_code == 404:
            raise UnknownSchema(f"schema registry {where}: no schema with id {schema_id} ({answer.text.strip()[:200]})")
        if answer.status_code != 200:
            raise RegistryUnavailable(f"schema registry {where}: HTTP {answer.status_code} {answer.text.strip()[:200]}")
        try:
            body = answer.json()
            schema_type = body.get("schemaType", "AVRO")
            if schema_type != "AVRO":
                raise UnknownSchema(f"schema registry {where}: schema {schema_id} is {schema_type}, not AVRO")
            return json.loads(body["schema"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise RegistryUnavailable(f"schema registry {where}: not a schema answer ({type(e).__name__} {e}): {answer.text[:200]}") from e
