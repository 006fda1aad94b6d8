"""How one site's Admin API pages, filters and embeds: every M5-specific choice in one value.

The public facts about the Admin API leave three things open (see docs/m5-admin-api.md): the
paging parameters and the largest page, whether a filter the client sends is honoured, and
whether a user's ``cards``/``accessgroups`` come without ``include=``. A site sets them in
``[m5]`` (``passerlink m5 check`` says what to set); the client reads them only from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from passerlink.errors import M5ProtocolError

if TYPE_CHECKING:
    from passerlink.config import M5Config

__all__ = ["M5Dialect", "M5AssumptionError", "format_filter", "USER_RELATIONS", "USER_EXPANDED"]

#: The user's embedded lists the sync reads: missing, they are unknown (never "none").
USER_RELATIONS = ("cards", "accessgroups")
#: The user's embedded objects the sync and the matcher read (department name, user group name);
#: missing, they are taken from their lists by ``fkdepartment``/``fkusergroup``.
USER_EXPANDED = ("department", "usergroup")


class M5AssumptionError(M5ProtocolError):
    """M5 answered, but not what the question asked (a filter, a page, a count not honoured).

    Acting on such an answer could block other people's cards or deactivate people missing from a
    cut listing, so it stops the run before its first write (exit 3, like a safety rule).
    """

    exit_code = 3


def format_filter(conditions: Mapping[str, object]) -> str:
    """``{"firstname": "anna", "lastname": "berg"}`` -> ``firstname:'anna'¤lastname:'berg'``."""
    return "¤".join(f"{k}:'{str(v).replace(chr(39), chr(39) * 2)}'" for k, v in conditions.items())


@dataclass(frozen=True)
class M5Dialect:
    """The site's answers to the open questions, with the defaults of the public Go client."""

    paging: Literal["offset", "none"] = "offset"
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = 500
    ask_count: bool = True
    card_filter: Literal["filter", "param"] = "filter"
    include: tuple[str, ...] = (*USER_RELATIONS, *USER_EXPANDED)

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")

    @classmethod
    def from_config(cls, m5: M5Config) -> M5Dialect:
        return cls(paging=m5.paging, offset_param=m5.offset_param, limit_param=m5.limit_param,
                   page_size=m5.page_size, ask_count=m5.ask_count, card_filter=m5.card_filter,
                   include=tuple(m5.include))

    def page_params(self, offset: int) -> dict[str, str | int]:
        """The paging part of a list request (nothing when the site pages not at all)."""
        if self.paging == "none":
            return {}
        return {self.offset_param: offset, self.limit_param: self.page_size}

    def card_params(self, user_id: int) -> dict[str, str | int]:
        """The question "this user's cards" in the site's form."""
        if self.card_filter == "param":
            return {"fkusernumber": int(user_id)}
        return {"filter": format_filter({"fkusernumber": int(user_id)})}

    def card_question(self, user_id: int) -> str:
        """The same question as a person reads it in a message."""
        if self.card_filter == "param":
            return f"GET /card?fkusernumber={int(user_id)}"
        return f"GET /card?filter=fkusernumber:'{int(user_id)}'"

    def setting_lines(self) -> list[str]:
        """These choices as the ``[m5]`` lines that give them."""
        inc = ", ".join(f'"{i}"' for i in self.include)
        return [f'paging = "{self.paging}"', f'offset_param = "{self.offset_param}"',
                f'limit_param = "{self.limit_param}"', f"page_size = {self.page_size}",
                f"ask_count = {'true' if self.ask_count else 'false'}", f'card_filter = "{self.card_filter}"',
                f"include = [{inc}]"]
