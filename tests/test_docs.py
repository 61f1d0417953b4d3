"""The repository documents itself: the committed schema is current, it says what the API really
answers, and docs/ stays in step with the code it describes.

- docs/openapi.yaml is what `manage.py spectacular` writes today (`make schema` rewrites it).
- Every operation that takes a token answers a revoked one with 401, and documents it.
- Sign-up's and login's documented lengths and patterns are the ones validation enforces,
  probed at each bound over REST.
- docs/protocol.md names every close code, client frame and frame error code of the consumer;
  README.md and docs/ point at nothing outside the repository, and the tests they name exist.
"""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.services import token_for, token_revoke

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STRONG_PASSWORD = "Zq7#wLp2"  # exactly 8 characters, neither common nor numeric


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_committed_schema_is_current(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(fresh))
    committed = (DOCS / "openapi.yaml").read_text()
    assert fresh.read_text() == committed, "docs/openapi.yaml is stale: run `make schema` and commit it"


@pytest.mark.django_db
def test_every_operation_that_takes_a_token_answers_a_revoked_one_with_a_documented_401(schema, make_user):
    user = make_user(username="revoked")
    key = token_for(user=user).key
    token_revoke(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    checked, undocumented = 0, []
    for path, method, operation in operations(schema):
        if not any("tokenAuth" in requirement for requirement in operation.get("security", [])):
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = getattr(client, method)(url)
        assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
        checked += 1
        if "401" not in operation["responses"]:
            undocumented.append(f"{method.upper()} {path}")
    assert checked > 40  # the whole API, not a path that moved
    assert undocumented == []


def register_errors(client: APIClient, **fields) -> set[str]:
    """The fields sign-up refuses (empty: accepted, 201)."""
    body = {"username": "probe_user", "password": STRONG_PASSWORD, **fields}
    response = client.post("/api/auth/register/", body, format="json")
    assert response.status_code in (201, 400), response.content
    return set() if response.status_code == 201 else set(response.json())


@pytest.mark.django_db
def test_sign_up_constraints_in_the_schema_are_the_ones_validation_enforces(schema):
    client = APIClient()
    request = schema["components"]["schemas"]["RegisterRequest"]["properties"]
    username, password = request["username"], request["password"]
    email = next(option for option in request["email"]["oneOf"] if option.get("format") == "email")

    low, high = username["minLength"], username["maxLength"]
    assert re.fullmatch(username["pattern"], "a" * low) and not re.fullmatch(username["pattern"], "a" * (low - 1))
    assert register_errors(client, username="a" * (low - 1)) == {"username"}
    assert register_errors(client, username="b" * low) == set()
    assert register_errors(client, username="c" * high) == set()
    assert register_errors(client, username="d" * (high + 1)) == {"username"}
    assert register_errors(client, username="not-allowed") == {"username"}  # outside the pattern

    assert len(STRONG_PASSWORD) == password["minLength"]
    assert register_errors(client, username="pw_short", password=STRONG_PASSWORD[:-1]) == {"password"}
    assert register_errors(client, username="pw_exact", password=STRONG_PASSWORD) == set()
    too_long = STRONG_PASSWORD * (password["maxLength"] // len(STRONG_PASSWORD) + 1)
    assert register_errors(client, username="pw_long", password=too_long) == {"password"}

    domain = "@example.com"
    longest = "e" * 60 + "." + "f" * (email["maxLength"] - 61 - len(domain)) + domain
    assert len(longest) == email["maxLength"]
    assert register_errors(client, username="mail_max", email=longest) == set()
    assert register_errors(client, username="mail_over", email="g" + longest) == {"email"}


@pytest.mark.django_db
def test_token_constraints_in_the_schema_are_the_ones_validation_enforces(schema):
    client = APIClient()
    request = schema["components"]["schemas"]["TokenRequestRequest"]["properties"]

    def refused_fields(**fields) -> set[str]:
        response = client.post("/api/auth/token/", {"username": "nobody", "password": "x", **fields}, format="json")
        assert response.status_code == 400, response.content
        return set(response.json())

    # At the bound the pair reaches the password check (one message for any bad pair); past it, the field is refused.
    assert refused_fields(username="u" * request["username"]["maxLength"]) == {"non_field_errors"}
    assert refused_fields(username="u" * (request["username"]["maxLength"] + 1)) == {"username"}
    assert refused_fields(password="p" * request["password"]["maxLength"]) == {"non_field_errors"}
    assert refused_fields(password="p" * (request["password"]["maxLength"] + 1)) == {"password"}
    assert refused_fields(username="") == {"username"}


def test_protocol_doc_names_every_close_code_client_frame_and_frame_error():
    from chat import consumers

    protocol = (DOCS / "protocol.md").read_text()
    close_codes = {value for name, value in vars(consumers).items() if name.startswith("CLOSE_")}
    assert close_codes, "chat.consumers names its close codes CLOSE_*"
    for code in close_codes:
        assert f"`{code}`" in protocol, f"close code {code} is not in docs/protocol.md"
    for frame_type in consumers.TandemConsumer.handlers:
        assert f"`{frame_type}`" in protocol, f"client frame {frame_type} is not in docs/protocol.md"
    source = Path(consumers.__file__).read_text()
    for code in set(re.findall(r'FrameError\(\s*"([a-z_]+)"', source)):
        assert f"`{code}`" in protocol, f"error code {code} is not in docs/protocol.md"


def test_readme_and_docs_point_only_inside_the_repository():
    documents = [ROOT / "README.md", *DOCS.glob("*.md")]
    assert len(documents) >= 3
    for document in documents:
        text = document.read_text()
        assert "../shared" not in text, f"{document.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            assert (document.parent / target).exists(), f"{document.name} links to {target}, which is missing"


def test_the_tests_the_docs_name_exist():
    """docs/architecture.md says which test guards which rule; a renamed test must not leave it pointing nowhere."""
    named = 0
    for document in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", document.read_text()):
            assert f"def {name}(" in (ROOT / path).read_text(), f"{document.name} names {path}::{name}"
            named += 1
    assert named >= 6
