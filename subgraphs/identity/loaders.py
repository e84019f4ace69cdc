from __future__ import annotations

from subgraphs.identity.models import User
from subgraphs.kit.loaders import ByIdLoader


class UserByIdLoader(ByIdLoader[User]):
    model = User
