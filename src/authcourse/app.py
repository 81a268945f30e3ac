"""The mini-server: one FastAPI app per mode, serving every route of the course's contract.

Authentication is a FastAPI dependency (`Depends(authenticate)`); every refusal is a
`RequestError` rendered as `{"error": message}`. Nothing a client sends can make it answer
500: bodies are validated, credentials that do not parse are simply not credentials, and a
store that fails answers 503.

`Settings.hooks` (`CourseServer(mode, hooks=Hooks(...))`, see hooks.py) puts your own functions in
front of the mode's strategy: how the exercises run a learner's code inside the live server.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time,
# and `Authenticated` below is local to create_app.

import asyncio
import re
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import redis
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from starlette.requests import ClientDisconnect
from starlette.exceptions import HTTPException as StarletteHTTPException

from .auth import BearerTokenAuth, CookieTokenAuth, CrossSiteGuard, Principal, SessionAuth, respond
from .errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotAuthenticated,
    NotFound,
    PasswordTooLong,
    RequestError,
    ServiceUnavailable,
    StoreError,
)
from .refresh import RefreshTokens
from .refreshauth import RefreshingBearerAuth, RefreshingCookieTokenAuth
from .sessions import SessionManager
from .settings import Settings
from .stores import Store, open_store
from .tokens import ApiKeys, TokenService, load_secret
from .users import UserDirectory
from .verified import CACHE_SIZE

OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
DOC_PATHS = ("/openapi.json", "/docs", "/docs/oauth2-redirect")
JWKS_CACHE_CONTROL = "public, max-age=300"  # seconds a verifier may keep the key set
MAX_BODY_BYTES = 16 * 1024  # a login is under 1 KB; anything larger is refused unread


class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: StrictStr = Field(max_length=320)
    password: StrictStr = Field(max_length=1024)


async def read_credentials(request: Request) -> Credentials:
    """The login body, read with a size limit and validated, or a clear 4xx."""
    return await read_json(request, Credentials)


Model = TypeVar("Model", bound=BaseModel)


async def read_json(request: Request, model: type[Model], *, may_be_empty: bool = False) -> Model:
    """A JSON body, read with a size limit and validated as `model`, or a clear 4xx.

    With `may_be_empty`, a request with no body at all is read as `{}` (a DELETE usually has none).
    """
    content_type = request.headers.get("content-type", "")
    if may_be_empty and not content_type and request.headers.get("content-length", "0") == "0":
        return model.model_validate({})
    if "json" not in content_type.lower():
        raise RequestError("Content-Type must be application/json", status=415)
    too_large = RequestError(f"Request body must be at most {MAX_BODY_BYTES} bytes", status=413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise too_large
    except ClientDisconnect:
        raise BadRequest("Client disconnected") from None
    try:
        return model.model_validate_json(bytes(body))
    except ValidationError as error:
        status, message = _validation_message(error.errors())
        raise RequestError(message, status=status) from None


# Chapter 14: the bodies of the sensitive actions. Each carries the current password, checked again
# however valid the session or token (ASVS V6.2.3, V7.5.1); missing, it is a 403, not a 422.
class Reauthentication(BaseModel):
    model_config = ConfigDict(extra="ignore")

    current_password: StrictStr | None = Field(default=None, max_length=1024)


class PasswordChange(Reauthentication):
    new_password: StrictStr = Field(max_length=1024)


class EmailChange(Reauthentication):
    new_email: StrictStr = Field(max_length=320)


class NewApiKey(Reauthentication):
    name: StrictStr = Field(default="api key", min_length=1, max_length=100)


MIN_PASSWORD_CHARS = 8  # ASVS V6.2.1; the most is bcrypt's 72 bytes (passwords.py)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
HANDLE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # sessions.handle_of: 128 bits, unpadded base64url
REAUTH_MISSING = "Re-authentication required: send your current password as current_password"
REAUTH_FAILED = "Re-authentication failed: invalid credentials"


LOGIN_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": Credentials.model_json_schema()}}}
}


def build_auth(settings: Settings, store: Store, users: UserDirectory, secret: bytes):
    """The authentication strategy for the settings' mode."""
    cache_size = CACHE_SIZE if settings.signature_cache else 0
    if settings.mode == "session":
        sessions = SessionManager(
            store,
            secret,
            idle_timeout=settings.idle_timeout,
            absolute_timeout=settings.absolute_timeout,
            touch_interval=settings.touch_interval,
            cache_size=cache_size,
        )
        return SessionAuth(sessions, users, secure=settings.secure_cookies)
    tokens = TokenService(
        secret, store, lifetime=settings.token_lifetime, cache_size=cache_size, algorithm=settings.algorithm
    )
    if settings.refresh:
        refresh_tokens = RefreshTokens(store, secret, lifetime=settings.refresh_lifetime)
        strategy = RefreshingBearerAuth if settings.mode == "token" else RefreshingCookieTokenAuth
        return strategy(tokens, users, settings.revocation, refresh_tokens, secure=settings.secure_cookies)
    if settings.mode == "token":
        return BearerTokenAuth(tokens, users, settings.revocation)
    return CookieTokenAuth(tokens, users, settings.revocation, secure=settings.secure_cookies)


def _validation_message(errors: Sequence[Any]) -> tuple[int, str]:
    problems = []
    for item in errors:
        kind = item.get("type", "")
        if kind in ("json_invalid", "json_type"):
            return 400, "Malformed JSON body"
        where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body", "query")) or "body"
        if kind == "missing":
            problems.append(f"{where} is required")
        elif kind in ("string_type", "model_type", "model_attributes_type", "dict_type"):
            problems.append(f"{where} must be {'a JSON object' if where == 'body' else 'a string'}")
        elif kind == "string_too_long":
            problems.append(f"{where} is too long")
        else:
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return 422, "Invalid request body: " + "; ".join(problems)


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def request_error(request: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"error": error.message}, status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        status, message = _validation_message(error.errors())
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(PasswordTooLong)
    async def password_too_long(request: Request, error: PasswordTooLong) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.exception_handler(redis.RedisError)
    @app.exception_handler(StoreError)
    async def store_down(request: Request, error: Exception) -> JSONResponse:
        failure = ServiceUnavailable()
        return JSONResponse({"error": failure.message}, status_code=failure.status)


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """A FastAPI app for one mode; `overrides` are Settings fields (`create_app(mode="token")`)."""
    settings = settings or Settings(**overrides)
    store = open_store(settings.store)
    users = UserDirectory(settings.bcrypt_rounds)
    auth = build_auth(settings, store, users, load_secret(settings.secret))
    tokens = getattr(auth, "tokens", None)  # the TokenService of the token modes (its key set: chapter 13)
    if settings.hooks is not None:
        auth = settings.hooks.around(auth)  # learner code in front of the built-in strategy (hooks.py)

    app = FastAPI(
        title=f"authcourse mini-server ({settings.mode}, revocation {settings.revocation})",
        telemetry=OFF,
        openapi_url=DOC_PATHS[0],
        docs_url=DOC_PATHS[1],
        swagger_ui_oauth2_redirect_url=DOC_PATHS[2],
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.users = users
    app.state.auth = auth
    app.state.tokens = tokens
    add_error_handlers(app)
    if settings.cross_site_guard:
        app.add_middleware(CrossSiteGuard, trusted_origins=settings.trusted_origins)

    # A real Redis answers over the network. Where the store blocks, the request's store calls
    # go through `store.run`, which lets the loop serve other requests while they wait; memory
    # and fakeredis answer in microseconds, on the loop.
    blocking = store.blocking

    if blocking:

        async def authenticate(request: Request) -> Principal:
            return await store.run(auth.authenticate, request)

    else:

        async def authenticate(request: Request) -> Principal:
            return auth.authenticate(request)

    Authenticated = Annotated[Principal, Depends(authenticate)]

    # Chapter 14: an API key (`X-API-Key`, made at POST /account/api-keys) opens the /api/ routes only,
    # never the routes that manage the account or its sessions.
    api_keys = ApiKeys(store)

    def by_api_key(api_key: str) -> Principal:
        user_id = api_keys.user_of(api_key)
        user = users.get(user_id) if user_id is not None else None
        if user is None:
            raise NotAuthenticated("Invalid API key")
        return Principal(user)

    async def authenticate_api(request: Request) -> Principal:
        api_key = request.headers.get("x-api-key")
        if api_key is not None:
            return await store.run(by_api_key, api_key)
        return await authenticate(request)

    ApiCaller = Annotated[Principal, Depends(authenticate_api)]

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    if tokens is not None and tokens.keys is not None:
        keys = tokens.keys

        @app.get("/.well-known/jwks.json")
        async def jwks() -> JSONResponse:
            # Public keys only. Verifiers may keep them 5 minutes (PyJWKClient's default lifespan):
            # so a retired key dies everywhere at most 5 minutes after it leaves this list.
            return JSONResponse(keys.jwks(), headers={"Cache-Control": JWKS_CACHE_CONTROL})

    @app.post("/login", openapi_extra=LOGIN_BODY)
    async def login(credentials: Annotated[Credentials, Depends(read_credentials)], request: Request) -> JSONResponse:
        # bcrypt takes a quarter of a second: run it off the event loop so other requests go on,
        # in the loop's own executor, which the server joins when it stops (no thread left behind).
        loop = asyncio.get_running_loop()
        user = await loop.run_in_executor(None, users.authenticate, credentials.email, credentials.password)
        if user is None:
            raise InvalidCredentials()
        return await store.run(auth.login, user, request)

    @app.get("/api/profile")
    async def profile(principal: ApiCaller) -> Response:
        return Response(principal.user.profile_json, media_type="application/json")

    @app.post("/logout")
    async def logout(principal: Authenticated) -> JSONResponse:
        return await store.run(auth.logout, principal)

    @app.post("/logout-all")
    async def logout_all(principal: Authenticated) -> JSONResponse:
        return await store.run(auth.logout_all, principal)

    if settings.refresh:

        @app.post("/refresh")
        async def refresh(request: Request) -> JSONResponse:
            return await store.run(auth.refresh, request)

    @app.get("/api/admin")
    async def admin(principal: ApiCaller) -> JSONResponse:
        if principal.user.role != "admin":
            raise Forbidden()
        return respond({"message": f"Welcome, {principal.user.name}", "user": principal.user.public()})

    # Chapter 14, the session's whole life: sensitive actions ask for the password again -------------

    async def reauthenticate(principal: Principal, password: str | None) -> None:
        """The current password, checked again (ASVS V7.5.1): one bcrypt check, one answer, as at login."""
        if password is None:
            raise Forbidden(REAUTH_MISSING)
        user = await loop_call(users.authenticate, principal.user.email, password)
        if user is None or user.id != principal.user.id:
            raise Forbidden(REAUTH_FAILED)

    async def loop_call(function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def password_change_body(request: Request) -> PasswordChange:
        return await read_json(request, PasswordChange)

    async def email_change_body(request: Request) -> EmailChange:
        return await read_json(request, EmailChange)

    async def api_key_body(request: Request) -> NewApiKey:
        return await read_json(request, NewApiKey)

    async def reauthentication_body(request: Request) -> Reauthentication:
        return await read_json(request, Reauthentication, may_be_empty=True)

    @app.post("/account/password")
    async def change_password(
        principal: Authenticated, body: Annotated[PasswordChange, Depends(password_change_body)], request: Request
    ) -> Response:
        """ASVS V6.2.3 and V7.4.3: the current password again, then every other login of the user ends."""
        await reauthenticate(principal, body.current_password)
        if len(body.new_password) < MIN_PASSWORD_CHARS:
            raise BadRequest(f"new_password must be at least {MIN_PASSWORD_CHARS} characters")
        principal.user = await loop_call(users.set_password, principal.user.id, body.new_password)
        return await store.run(auth.password_changed, principal, request)

    @app.post("/account/email")
    async def change_email(
        principal: Authenticated, body: Annotated[EmailChange, Depends(email_change_body)]
    ) -> Response:
        """ASVS V7.5.1: the email recovers the account, so changing it needs the password again."""
        await reauthenticate(principal, body.current_password)
        if not EMAIL.fullmatch(body.new_email):
            raise BadRequest("new_email must be an email address")
        try:
            user = users.set_email(principal.user.id, body.new_email)
        except ValueError:
            raise Conflict("That email is already in use") from None
        return respond({"message": "Email changed", "user": user.public()})

    @app.post("/account/api-keys")
    async def add_api_key(principal: Authenticated, body: Annotated[NewApiKey, Depends(api_key_body)]) -> Response:
        """ASVS V7.5.3: a new long-lived credential needs the password again. The key is shown once."""
        await reauthenticate(principal, body.current_password)
        api_key = await store.run(api_keys.create_key, principal.user.id, body.name)
        message = "Keep this key now: the server stores only its hash and cannot show it again"
        return respond({"message": message, "api_key": api_key, "name": body.name}, status=201)

    @app.get("/sessions")
    async def list_sessions(principal: Authenticated) -> Response:
        """ASVS V7.5.2: the user sees their active sessions (device, created, last use), never their ids."""
        return await store.run(auth.list_sessions, principal)

    @app.delete("/sessions/{handle}")
    async def end_session(
        principal: Authenticated, handle: str, body: Annotated[Reauthentication, Depends(reauthentication_body)]
    ) -> Response:
        """ASVS V7.5.2: having authenticated again, the user ends one of their own sessions."""
        await reauthenticate(principal, body.current_password)
        if not HANDLE.fullmatch(handle):
            raise NotFound("No such session")
        return await store.run(auth.end_session, principal, handle)

    # The course's routes first, FastAPI's documentation routes after them: every request is
    # matched against the routes in order, and the API is what is asked for.
    app.router.routes.sort(key=lambda route: getattr(route, "path", "") in DOC_PATHS)
    return app
