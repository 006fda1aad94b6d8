"""The simulator's request and response bodies, as pydantic models (they make its OpenAPI document).

Input models forbid unknown and read-only fields, so a client that writes ``createdby`` or
misspells a field gets a 400 instead of a silent no-op. Field names follow the public knowledge
of the M5 Admin API (see docs/m5-admin-api.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorBody",
    "LoginBody",
    "TokenBody",
    "VersionBody",
    "UserCreate",
    "UserPatch",
    "UserOut",
    "UserList",
    "CardCreate",
    "CardPatch",
    "CardOut",
    "CardList",
    "CardBlock",
    "CardRef",
    "DepartmentCreate",
    "DepartmentOut",
    "DepartmentList",
    "UsergroupCreate",
    "UsergroupOut",
    "UsergroupList",
    "TimePeriod",
    "AccessgroupOut",
    "AccessgroupList",
]

#: an unsigned 32-bit integer, as M5 stores ids and numbers
_UInt = Annotated[int, Field(ge=0, le=2**32 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every non-2xx answer carries this body."""

    errorcode: int
    friendlymessage: str
    developermessage: str
    moreinfo: str
    reject: int


class LoginBody(_In):
    id: str = "1"
    system: str = "RASYSTEM"
    lang: str = "sv"
    user: str
    password: str
    apitype: str = "main"
    apikey: str


class TokenBody(BaseModel):
    accesstoken: str


class VersionBody(BaseModel):
    version: str = Field(examples=["1.5.4"])


class _UserFields(BaseModel):
    """The writable user fields (all optional here)."""

    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    phone1: str | None = None
    phone2: str | None = None
    phone3: str | None = None
    address: str | None = None
    city: str | None = None
    postalcode: str | None = None
    employmentnumber: _UInt | None = None
    employmenttext: str | None = None
    customfield1: str | None = None
    customfield2: str | None = None
    customfield3: str | None = None
    customfield4: str | None = None
    customfield5: str | None = None
    customfield6: str | None = None
    customfield7: str | None = None
    customfield8: str | None = None
    customfield9: str | None = None
    customfield10: str | None = None
    fkdepartment: _UInt | None = None
    fkusergroup: _UInt | None = None
    status: _UInt | None = Field(default=None, description="1 active, 0 inactive (simulator default 1)")
    type: _UInt | None = None
    startdate: str | None = Field(default=None, description="YYYY-MM-DD or empty")
    enddate: str | None = Field(default=None, description="YYYY-MM-DD or empty")
    apireference: str | None = Field(default=None, description="free text; integrations keep their marker here")
    message: str | None = None
    # the real API's further user fields (public Go client, API 1.5.4); accepted and kept
    phoneconnectionnumber: str | None = None
    phoneconnectiontext: str | None = None
    extra: str | None = None
    webpassword: str | None = None
    fkfloor: _UInt | None = None
    showregister: bool | None = None
    cardgroupname: str | None = None
    cardgroupstamp: str | None = None
    cardtype: _UInt | None = None
    readinfomsg: bool | None = None
    remindpass: bool | None = None
    remindmachine: str | None = None
    balance: float | None = None
    lastcalc: str | None = None
    showmeasure: bool | None = None
    showbooked: bool | None = None
    language: str | None = None


class UserCreate(_UserFields):
    model_config = ConfigDict(extra="forbid")

    firstname: str = Field(min_length=1)
    lastname: str = Field(min_length=1)


class UserPatch(_UserFields):
    """Only the fields to change, plus the user's current ``rastamp`` (optimistic lock)."""

    model_config = ConfigDict(extra="forbid")

    rastamp: str | None = Field(default=None, description="required: the rastamp last read")


class _CardFields(BaseModel):
    fkusernumber: _UInt | None = None
    name: str | None = None
    type: _UInt | None = None
    cardidentity: str | None = None
    cardidentityraw: str | None = None
    pincode: str | None = None
    pinblocked: bool | None = None
    isblocked: bool | None = None
    startdate: str | None = None
    enddate: str | None = None
    inherituseraccess: bool | None = None
    apireference: str | None = None
    # the real API's further card fields (public Go client); ``booktype`` is always sent, null when unset
    regnumber: str | None = None
    booktype: _UInt | None = None
    timecode: _UInt | None = None
    timecodetype: _UInt | None = None
    timebookings: bool | None = None
    alarmon: str | None = None
    alarmoff: str | None = None
    phoneshort: str | None = None
    phonetele: str | None = None
    phoneteleall: bool | None = None
    phoneuseexternal: bool | None = None
    disability: bool | None = None
    fieldex1: str | None = None
    fieldex2: str | None = None
    selectpindatetime: str | None = None
    asciicard: str | None = None
    showregister: bool | None = None
    parentcard: _UInt | None = None
    vacation: bool | None = None
    fkaccessgroup: _UInt | None = None


class CardCreate(_CardFields):
    model_config = ConfigDict(extra="forbid")

    fkusernumber: _UInt


class CardPatch(_CardFields):
    model_config = ConfigDict(extra="forbid")

    rastamp: str | None = Field(default=None, description="required: the rastamp last read")


class _Stamps(BaseModel):
    id: int
    rastamp: str
    refguid: str
    createdby: str
    createddate: str
    changedby: str
    changeddate: str


class CardOut(_Stamps, _CardFields):
    """A card as M5 answers it; ``expired`` is read-only, the relations come with ``include=``."""

    expired: bool = False
    user: dict[str, Any] | None = None
    accessgroups: list[dict[str, Any]] | None = None
    readeraccess: list[dict[str, Any]] | None = None
    accessalarms: list[dict[str, Any]] | None = None


class CardList(BaseModel):
    cards: list[CardOut]
    count: int | None = Field(default=None, description="only with ?count=true")


class CardRef(_In):
    id: int


class CardBlock(_In):
    cards: list[CardRef] = Field(min_length=1)


class DepartmentCreate(_In):
    departmentname: str = Field(min_length=1)
    departmentdata: str = ""


class DepartmentOut(BaseModel):
    id: int
    departmentname: str
    departmentdata: str
    rastamp: str


class DepartmentList(BaseModel):
    departments: list[DepartmentOut]
    count: int | None = None


class UsergroupCreate(_In):
    groupname: str = Field(min_length=1)
    groupdata: str = ""


class UsergroupOut(BaseModel):
    id: int
    groupname: str
    groupdata: str
    rastamp: str


class UsergroupList(BaseModel):
    usergroups: list[UsergroupOut]
    count: int | None = None


class TimePeriod(BaseModel):
    """An access group's time period: an object, not a string."""

    periods: list[dict[str, Any]] = Field(default_factory=list)
    lock: bool = False
    color: str = ""


class AccessgroupOut(BaseModel):
    """An access group with the real API's fields; its relations come with ``include=``."""

    id: int
    name: str
    numbertype: int = 0
    blocked: int
    startdate: str
    enddate: str
    timeperiod: TimePeriod
    timecode: int | None = None
    timecodetype: int | None = None
    alarmon: str = ""
    alarmoff: str = ""
    elsassigned: bool = False
    userassigned: bool = False
    functionassigned: bool = False
    pincodeassigned: bool = False
    rasystem: int = 1
    bookobjects: bool = False
    refguid: str
    apidooraccess: bool = False
    rastamp: str
    createdby: str
    createddate: str
    changedby: str
    changeddate: str
    cards: list[dict[str, Any]] | None = None
    users: list[dict[str, Any]] | None = None
    units: list[dict[str, Any]] | None = None
    machinegroups: list[dict[str, Any]] | None = None
    functions: list[dict[str, Any]] | None = None


class AccessgroupList(BaseModel):
    accessgroups: list[AccessgroupOut]
    count: int | None = None


class UserOut(_Stamps, _UserFields):
    """A user as M5 answers it: every field, the stamps, and the expanded relations."""

    status: int
    type: int
    floor: dict[str, Any] | None = None
    cards: list[CardOut] | None = Field(default=None, description="embedded (some servers only with include=)")
    department: DepartmentOut | None = None
    usergroup: UsergroupOut | None = None
    accessgroups: list[AccessgroupOut] | None = Field(default=None, description="embedded (some servers only with include=)")


class UserList(BaseModel):
    users: list[UserOut]
    count: int | None = Field(default=None, description="only with ?count=true")
