"""Identity's mutations: each one service call in one transaction."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from subgraphs.identity.keys import Keyring
from subgraphs.identity.rate_limit import Throttle, ThrottlePolicy
from subgraphs.identity.service import (
    accounts,
    authentication,
    delegation,
    impersonation,
    mfa,
    password_reset,
)
from subgraphs.identity.service.access import ACCOUNT_ADMINS, DELEGATORS, IMPERSONATORS
from subgraphs.identity.service.sessions import (
    Revocations,
    TokenPair,
    revoke_session,
    rotate_refresh_token,
)
from subgraphs.identity.types import (
    AuthPayload,
    CreateUserInput,
    DelegationGrant,
    DelegationGrantPayload,
    MfaConfirmationPayload,
    MfaEnrolmentPayload,
    OkPayload,
    Role,
    UpdateUserInput,
    User,
    UserPayload,
)
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.ids import parse_uuid, require_uuid
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow


def _keyring(info: Info) -> Keyring:
    keyring: Keyring = info.context.services.extra["keyring"]
    return keyring


def _throttle(info: Info) -> Throttle:
    """The limits as they apply to this caller (its address, from trusted proxies only)."""
    ctx = info.context
    return Throttle(ctx.redis, ThrottlePolicy.from_settings(ctx.settings), ctx.client_ip)


def _revocations(info: Info) -> Revocations:
    ctx = info.context
    return Revocations(ctx.redis, ctx.settings.jwt_access_ttl_seconds)


def _auth_payload(pair: TokenPair | None, errors: list) -> AuthPayload:  # type: ignore[type-arg]
    if pair is None:
        return AuthPayload(user_errors=errors)
    return AuthPayload(
        access_token=pair.access_token,
        access_token_expires_at=pair.access_expires_at,
        refresh_token=pair.refresh_token,
        user=User.from_row(pair.user, owner_is_viewer=True),
    )


def _client_id(value: strawberry.ID | None) -> uuid.UUID | None:
    if value is None:
        return None
    key = parse_uuid(value)
    if key is None:
        raise BadUserInputError(f"{value!r} is not a client id.")
    return key


def _user_id(value: strawberry.ID) -> uuid.UUID:
    return require_uuid(value, "User")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Log in; give `otp` once two-factor login is enabled.")
    async def login(
        self, info: Info, email: str, password: str, otp: str | None = None
    ) -> AuthPayload:
        key = await _keyring(info).active()
        throttle = _throttle(info)
        pair, errors = await transact(
            info,
            lambda s: authentication.login(
                s, throttle, key, info.context.settings, email=email, password=password, otp=otp
            ),
        )
        return _auth_payload(pair, errors)

    @strawberry.mutation(description="Trade a refresh token for a new pair; each works once.")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        key = await _keyring(info).active()
        throttle, revocations = _throttle(info), _revocations(info)
        pair, errors = await transact(
            info,
            lambda s: rotate_refresh_token(
                s,
                refresh_token,
                key,
                info.context.settings,
                revocations=revocations,
                throttle=throttle,
            ),
        )
        return _auth_payload(pair, errors)

    @strawberry.mutation(extensions=[allow()], description="End this session everywhere.")
    async def logout(self, info: Info) -> OkPayload:
        viewer = await info.context.get_viewer()
        revocations = _revocations(info)

        async def work(session) -> bool:  # type: ignore[no-untyped-def]
            if viewer.session_id is not None:
                await revoke_session(session, revocations, viewer.session_id, "logout")
            return True

        ok, errors = await transact(info, work)
        return OkPayload(ok=bool(ok), user_errors=errors)

    @strawberry.mutation(
        description="Always answers the same, whether or not the e-mail exists;"
        " limited per e-mail (3 an hour) and per address (RATE_LIMITED)."
    )
    async def request_password_reset(self, info: Info, email: str) -> OkPayload:
        ttl = info.context.settings.password_reset_ttl_seconds
        throttle = _throttle(info)
        _, errors = await transact(
            info, lambda s: password_reset.request_reset(s, throttle, email, ttl_seconds=ttl)
        )
        return OkPayload(ok=not errors, user_errors=errors)

    @strawberry.mutation
    async def reset_password(self, info: Info, token: str, new_password: str) -> OkPayload:
        throttle, revocations = _throttle(info), _revocations(info)
        user, errors = await transact(
            info,
            lambda s: password_reset.reset_password(
                s, throttle, token, new_password, revocations=revocations
            ),
        )
        return OkPayload(ok=user is not None, user_errors=errors)

    @strawberry.mutation(extensions=[allow()])
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> OkPayload:
        viewer = await info.context.get_viewer()
        throttle, revocations = _throttle(info), _revocations(info)
        user, errors = await transact(
            info,
            lambda s: password_reset.change_password(
                s,
                throttle,
                viewer.user_id,
                current_password=current_password,
                new_password=new_password,
                impersonating=viewer.is_impersonated,
                revocations=revocations,
                current_session_id=viewer.session_id,
            ),
        )
        return OkPayload(ok=user is not None, user_errors=errors)

    @strawberry.mutation(extensions=[allow()], description="Start TOTP enrolment.")
    async def enroll_mfa(self, info: Info) -> MfaEnrolmentPayload:
        viewer = await info.context.get_viewer()
        enrolment, errors = await transact(
            info,
            lambda s: mfa.start_enrolment(
                s, viewer.user_id, impersonator_id=viewer.impersonator_id
            ),
        )
        if enrolment is None:
            return MfaEnrolmentPayload(user_errors=errors)
        return MfaEnrolmentPayload(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)

    @strawberry.mutation(extensions=[allow()], description="Confirm enrolment with a code.")
    async def confirm_mfa(self, info: Info, code: str) -> MfaConfirmationPayload:
        viewer = await info.context.get_viewer()
        throttle = _throttle(info)
        codes, errors = await transact(
            info,
            lambda s: mfa.confirm_enrolment(
                s, throttle, viewer.user_id, code, impersonator_id=viewer.impersonator_id
            ),
        )
        return MfaConfirmationPayload(recovery_codes=codes, user_errors=errors)

    @strawberry.mutation(extensions=[allow()])
    async def disable_mfa(self, info: Info, code: str) -> UserPayload:
        viewer = await info.context.get_viewer()
        throttle = _throttle(info)
        user, errors = await transact(
            info,
            lambda s: mfa.disable(
                s, throttle, viewer.user_id, code, impersonator_id=viewer.impersonator_id
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*ACCOUNT_ADMINS)])
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        viewer = await info.context.get_viewer()
        data = accounts.NewUser(
            email=input.email,
            name=input.name,
            roles=[r.value for r in input.roles],
            password=input.password,
            phone=input.phone,
            client_id=_client_id(input.client_id),
        )
        user, errors = await transact(
            info,
            lambda s: accounts.create_user(
                s, data, actor_id=viewer.user_id, impersonator_id=viewer.impersonator_id
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*ACCOUNT_ADMINS)])
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput
    ) -> UserPayload:
        viewer = await info.context.get_viewer()
        user, errors = await transact(
            info,
            lambda s: accounts.update_profile(
                s,
                _user_id(id),
                name=input.name,
                phone=input.phone,
                actor_id=viewer.user_id,
                impersonator_id=viewer.impersonator_id,
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*ACCOUNT_ADMINS)])
    async def set_user_roles(
        self,
        info: Info,
        id: strawberry.ID,
        roles: list[Role],  # type: ignore[valid-type]
    ) -> UserPayload:
        viewer = await info.context.get_viewer()
        user, errors = await transact(
            info,
            lambda s: accounts.set_roles(
                s,
                _user_id(id),
                [r.value for r in roles],
                actor_id=viewer.user_id,
                impersonator_id=viewer.impersonator_id,
                revocations=_revocations(info),
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*ACCOUNT_ADMINS)],
        description=(
            "Link a client account to its client company; null (or leaving `clientId` out) "
            "unlinks it."
        ),
    )
    async def set_user_client(
        self, info: Info, id: strawberry.ID, client_id: strawberry.ID | None = None
    ) -> UserPayload:
        viewer = await info.context.get_viewer()
        client = _client_id(client_id)
        user, errors = await transact(
            info,
            lambda s: accounts.set_client(
                s,
                _user_id(id),
                client,
                actor_id=viewer.user_id,
                impersonator_id=viewer.impersonator_id,
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*ACCOUNT_ADMINS)])
    async def disable_user(self, info: Info, id: strawberry.ID) -> UserPayload:
        viewer = await info.context.get_viewer()
        user, errors = await transact(
            info,
            lambda s: accounts.set_status(
                s,
                _user_id(id),
                "disabled",
                actor_id=viewer.user_id,
                impersonator_id=viewer.impersonator_id,
                revocations=_revocations(info),
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*ACCOUNT_ADMINS)])
    async def enable_user(self, info: Info, id: strawberry.ID) -> UserPayload:
        viewer = await info.context.get_viewer()
        user, errors = await transact(
            info,
            lambda s: accounts.set_status(
                s,
                _user_id(id),
                "active",
                actor_id=viewer.user_id,
                impersonator_id=viewer.impersonator_id,
                revocations=_revocations(info),
            ),
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*IMPERSONATORS)],
        description="View the portals as a client; both identities are in the tokens.",
    )
    async def start_impersonation(
        self, info: Info, user_id: strawberry.ID, reason: str | None = None
    ) -> AuthPayload:
        viewer = await info.context.get_viewer()
        key = await _keyring(info).active()
        pair, errors = await transact(
            info,
            lambda s: impersonation.start(
                s,
                key,
                info.context.settings,
                staff_id=viewer.user_id,
                staff_roles=viewer.roles,
                already_impersonating=viewer.is_impersonated,
                client_user_id=_user_id(user_id),
                reason=reason,
                ip=info.context.client_ip,
            ),
        )
        return _auth_payload(pair, errors)

    @strawberry.mutation(extensions=[allow()], description="End the impersonated session.")
    async def stop_impersonation(self, info: Info) -> OkPayload:
        viewer = await info.context.get_viewer()
        stopped, errors = await transact(
            info,
            lambda s: impersonation.stop(
                s, session_id=viewer.session_id, revocations=_revocations(info)
            ),
        )
        return OkPayload(ok=bool(stopped), user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*DELEGATORS)],
        description="Let a service (reports) act as you, read-only, until revoked; the "
        "secret is shown once.",
    )
    async def create_delegation_grant(self, info: Info, purpose: str) -> DelegationGrantPayload:
        viewer = await info.context.get_viewer()
        issued, errors = await transact(
            info,
            lambda s: delegation.create_grant(s, user_id=viewer.user_id, purpose=purpose),
        )
        if issued is None:
            return DelegationGrantPayload(user_errors=errors)
        return DelegationGrantPayload(
            grant=DelegationGrant.from_row(issued.grant), secret=issued.secret
        )

    @strawberry.mutation(
        extensions=[allow(*DELEGATORS)],
        description="End a delegation grant (yours; admins: anyone's); its tokens stop at once.",
    )
    async def revoke_delegation_grant(
        self, info: Info, id: strawberry.ID
    ) -> DelegationGrantPayload:
        viewer = await info.context.get_viewer()
        grant_id = require_uuid(id, "DelegationGrant")
        grant, errors = await transact(
            info,
            lambda s: delegation.revoke_grant(
                s,
                _revocations(info),
                grant_id,
                actor_id=viewer.user_id,
                actor_roles=viewer.roles,
                impersonator_id=viewer.impersonator_id,
            ),
        )
        return DelegationGrantPayload(
            grant=DelegationGrant.from_row(grant) if grant else None, user_errors=errors
        )
