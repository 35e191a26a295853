"""Identity and tenancy: staff accounts, tokens, tenants, members, roles, API keys.

Other modules import from here only the request dependencies (`require`, `CurrentUser`),
the gate of lean routes (`pass_gate`), the login throttle (`limit_login_attempt`), the
role vocabulary (`Role`), what they may read of a tenant and its staff
(`active_tenant_ids`, `live_tenants`, `tenant_facts`, `tenant_formats`, `tenant_setting`,
`member_emails`, `staff_email`) and what operators do to tenants and accounts
(`tenant_page`, `locked_tenant`, `set_status_for_operator`, `tenants_to_purge`,
`grant_platform_admin`) and what a tenant's export takes from identity (`tenant_row`,
`members_staff_rows`). Importing it installs the CORS layer's check of publishable keys'
origins (`browser_origin_allowed`).

The layers above the modules use more of it:

- the dashboard signs staff in with the API's own calls and cookies (`login`, `signup`,
  `start_session`, `step_up`, `logout`, `verify_email`, `forgot_password`,
  `reset_password`, `describe_invitation`, `accept_invitation`, `authenticate`,
  `authenticate_password`, `record_auth_event`, `limit_auth_request`, `IssuedTokens`, the
  `REFRESH_*` cookie constants and the request shapes), enters tenants as the API does
  (`enter_tenant`, `limit_tenant_request`), reads the signed-in account and its tenants
  (`staff_account`, `my_tenants`) and manages tenants, members and API keys
  (`create_tenant`, `update_tenant` with `TenantUpdate` and `TenantSettings`,
  `list_members`, `add_member`, `change_role`, `remove_member`, `list_keys`, `create_key`,
  `revoke_key`, `api_key_read`, `role_rank`, `ROLE_ORDER`);
- the demo seed makes its owner, shop and the keys of its traffic stream
  (`ensure_verified_account`,
  `ensure_owned_tenant`, `ensure_system_key`);
- the `mercato` command rotates the token signing keys (`rotate_keys`).
"""

from mercato.modules.identity.accounts import (
    authenticate_password,
    forgot_password,
    login,
    reset_password,
    signup,
    staff_account,
    verify_email,
)
from mercato.modules.identity.auth import (
    CurrentUser,
    authenticate,
    enter_tenant,
    limit_auth_request,
    limit_login_attempt,
    limit_tenant_request,
    require,
)
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.export_rows import members_staff_rows, tenant_row
from mercato.modules.identity.gate import pass_gate
from mercato.modules.identity.invitations import (
    AcceptedInvitation,
    accept_invitation,
    describe_invitation,
)
from mercato.modules.identity.keys import api_key_read, create_key, list_keys, revoke_key
from mercato.modules.identity.members import (
    Member,
    add_member,
    change_role,
    list_members,
    member_emails,
    remove_member,
    staff_email,
)
from mercato.modules.identity.origins import browser_origin_allowed
from mercato.modules.identity.permissions import ROLE_ORDER, Role, role_rank
from mercato.modules.identity.platform_admins import AdminGranted, grant_platform_admin
from mercato.modules.identity.provisioning import (
    ensure_owned_tenant,
    ensure_system_key,
    ensure_verified_account,
)
from mercato.modules.identity.schemas import (
    AcceptInvitationRequest,
    ApiKeyCreate,
    ApiKeyRead,
    ForgotPasswordRequest,
    LoginRequest,
    MemberCreate,
    MemberUpdate,
    ResetPasswordRequest,
    SignupRequest,
    TenantCreate,
    TenantRead,
    TenantSettings,
    TenantUpdate,
    TokenRequest,
    UserRead,
)
from mercato.modules.identity.sessions import (
    REFRESH_COOKIE,
    REFRESH_COOKIE_PATH,
    REFRESH_COOKIE_SAMESITE,
    REFRESH_TOKEN_TTL,
    IssuedTokens,
    logout,
    start_session,
    step_up,
)
from mercato.modules.identity.tenants import (
    TenantFacts,
    active_tenant_ids,
    create_tenant,
    live_tenants,
    locked_tenant,
    my_tenants,
    resolve_tenant,
    set_status_for_operator,
    tenant_facts,
    tenant_formats,
    tenant_page,
    tenant_setting,
    tenants_to_purge,
    update_tenant,
)
from mercato.modules.identity.tokens import rotate_keys

__all__ = [
    "REFRESH_COOKIE",
    "REFRESH_COOKIE_PATH",
    "REFRESH_COOKIE_SAMESITE",
    "REFRESH_TOKEN_TTL",
    "ROLE_ORDER",
    "AcceptInvitationRequest",
    "AcceptedInvitation",
    "AdminGranted",
    "ApiKeyCreate",
    "ApiKeyRead",
    "CurrentUser",
    "ForgotPasswordRequest",
    "IssuedTokens",
    "LoginRequest",
    "Member",
    "MemberCreate",
    "MemberUpdate",
    "ResetPasswordRequest",
    "Role",
    "SignupRequest",
    "TenantCreate",
    "TenantFacts",
    "TenantRead",
    "TenantSettings",
    "TenantUpdate",
    "TokenRequest",
    "UserRead",
    "accept_invitation",
    "active_tenant_ids",
    "add_member",
    "api_key_read",
    "authenticate",
    "authenticate_password",
    "browser_origin_allowed",
    "change_role",
    "create_key",
    "create_tenant",
    "describe_invitation",
    "ensure_owned_tenant",
    "ensure_system_key",
    "ensure_verified_account",
    "enter_tenant",
    "forgot_password",
    "grant_platform_admin",
    "limit_auth_request",
    "limit_login_attempt",
    "limit_tenant_request",
    "list_keys",
    "list_members",
    "live_tenants",
    "locked_tenant",
    "login",
    "logout",
    "member_emails",
    "members_staff_rows",
    "my_tenants",
    "pass_gate",
    "record_auth_event",
    "remove_member",
    "require",
    "reset_password",
    "resolve_tenant",
    "revoke_key",
    "role_rank",
    "rotate_keys",
    "set_status_for_operator",
    "signup",
    "staff_account",
    "staff_email",
    "start_session",
    "step_up",
    "tenant_facts",
    "tenant_formats",
    "tenant_page",
    "tenant_row",
    "tenant_setting",
    "tenants_to_purge",
    "update_tenant",
    "verify_email",
]
