"""Who may administer a store from the command line.

`--user` on the CLI is a claim, not a proof: anyone who can run the program can type any name. Administration
(users, passwords, tokens, cases, retention) is therefore allowed only to the operating-system account that
owns the store file (it can rewrite the file anyway, so refusing it would protect nothing), or to a caller
presenting a supervisor's API token in RELAYTRACK_TOKEN (checked like the service checks it). Every refusal
and every admin entry in the audit log names the operating-system account that ran the command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from relaytrack.errors import AccessDenied
from relaytrack.evidence import audit
from relaytrack.evidence.audit import host_account
from relaytrack.evidence.auth import authenticate_token
from relaytrack.store import Store


@dataclass(frozen=True, slots=True)
class Admin:
    """The proven administrator: `actor` goes into the audit entry's user, `host_account` beside it."""

    actor: str
    host_account: str
    via: str  # "store-owner" | "supervisor-token"


def require_admin(store: Store, what: str) -> Admin:
    account = host_account()
    token = os.environ.get("RELAYTRACK_TOKEN")
    if token:
        user = authenticate_token(store.conn, token, db_path=store.path)
        if user.role == "supervisor":
            return Admin(user.name, account, "supervisor-token")
        reason = f"the token of {user.name!r} is not a supervisor's"
    elif store.owned_by_caller():
        return Admin(f"host:{account}", account, "store-owner")
    else:
        reason = "not the store's owner and no supervisor token in RELAYTRACK_TOKEN"
    audit.append(
        store.conn,
        store.path,
        user=f"host:{account}",
        case=None,
        action="admin",
        outcome="denied",
        detail={"what": what, "reason": reason, "host_account": account},
    )
    raise AccessDenied(f"{what} refused: {reason}")
