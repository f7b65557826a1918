"""Windows' rendered message text for the Security events the readers use (en-US, as Event Viewer and
Get-WinEvent print it), to derive CSV exports from the EventData of real records."""

from __future__ import annotations

import re

_PROSE_4625 = (
    "This event is generated when a logon request fails. It is generated on the computer where access was attempted.\n\n"
    "The Subject fields indicate the account on the local system which requested the logon. This is most commonly a "
    "service such as the Server service, or a local process such as Winlogon.exe or Services.exe.\n\n"
    "The Logon Type field indicates the kind of logon that was requested. The most common types are 2 (interactive) "
    "and 3 (network).\n\n"
    "The authentication information fields provide detailed information about this specific logon request.\n"
    "\t- Transited services indicate which intermediate services have participated in this logon request.\n"
    "\t- Package name indicates which sub-protocol was used among the NTLM protocols.\n"
)
TEMPLATES = {
    4624: (
        "An account was successfully logged on.\n\n"
        "Subject:\n\tSecurity ID:\t\t{SubjectUserSid}\n\tAccount Name:\t\t{SubjectUserName}\n"
        "\tAccount Domain:\t\t{SubjectDomainName}\n\tLogon ID:\t\t{SubjectLogonId}\n\n"
        "Logon Information:\n\tLogon Type:\t\t{LogonType}\n\tRestricted Admin Mode:\t{RestrictedAdminMode}\n"
        "\tVirtual Account:\t\t{VirtualAccount}\n\tElevated Token:\t\t{ElevatedToken}\n\n"
        "Impersonation Level:\t\t{ImpersonationLevel}\n\n"
        "New Logon:\n\tSecurity ID:\t\t{TargetUserSid}\n\tAccount Name:\t\t{TargetUserName}\n"
        "\tAccount Domain:\t\t{TargetDomainName}\n\tLogon ID:\t\t{TargetLogonId}\n\tLinked Logon ID:\t\t{TargetLinkedLogonId}\n"
        "\tNetwork Account Name:\t{TargetOutboundUserName}\n\tNetwork Account Domain:\t{TargetOutboundDomainName}\n"
        "\tLogon GUID:\t\t{LogonGuid}\n\n"
        "Process Information:\n\tProcess ID:\t\t{ProcessId}\n\tProcess Name:\t\t{ProcessName}\n\n"
        "Network Information:\n\tWorkstation Name:\t{WorkstationName}\n\tSource Network Address:\t{IpAddress}\n"
        "\tSource Port:\t\t{IpPort}\n\n"
        "Detailed Authentication Information:\n\tLogon Process:\t\t{LogonProcessName}\n"
        "\tAuthentication Package:\t{AuthenticationPackageName}\n\tTransited Services:\t{TransmittedServices}\n"
        "\tPackage Name (NTLM only):\t{LmPackageName}\n\tKey Length:\t\t{KeyLength}\n\n"
        "This event is generated when a logon session is created. It is generated on the computer that was accessed.\n\n"
        "The logon type field indicates the kind of logon that occurred. The most common types are 2 (interactive) "
        "and 3 (network).\n"
    ),
    4625: (
        "An account failed to log on.\n\n"
        "Subject:\n\tSecurity ID:\t\t{SubjectUserSid}\n\tAccount Name:\t\t{SubjectUserName}\n"
        "\tAccount Domain:\t\t{SubjectDomainName}\n\tLogon ID:\t\t{SubjectLogonId}\n\n"
        "Logon Type:\t\t\t{LogonType}\n\n"
        "Account For Which Logon Failed:\n\tSecurity ID:\t\t{TargetUserSid}\n\tAccount Name:\t\t{TargetUserName}\n"
        "\tAccount Domain:\t\t{TargetDomainName}\n\n"
        "Failure Information:\n\tFailure Reason:\t\t{FailureReason}\n\tStatus:\t\t\t{Status}\n\tSub Status:\t\t{SubStatus}\n\n"
        "Process Information:\n\tCaller Process ID:\t{ProcessId}\n\tCaller Process Name:\t{ProcessName}\n\n"
        "Network Information:\n\tWorkstation Name:\t{WorkstationName}\n\tSource Network Address:\t{IpAddress}\n"
        "\tSource Port:\t\t{IpPort}\n\n"
        "Detailed Authentication Information:\n\tLogon Process:\t\t{LogonProcessName}\n"
        "\tAuthentication Package:\t{AuthenticationPackageName}\n\tTransited Services:\t{TransmittedServices}\n"
        "\tPackage Name (NTLM only):\t{LmPackageName}\n\tKey Length:\t\t{KeyLength}\n\n" + _PROSE_4625
    ),
    4768: (
        "A Kerberos authentication ticket (TGT) was requested.\n\n"
        "Account Information:\n\tAccount Name:\t\t{TargetUserName}\n\tSupplied Realm Name:\t{TargetDomainName}\n"
        "\tUser ID:\t\t\t{TargetSid}\n\n"
        "Service Information:\n\tService Name:\t\t{ServiceName}\n\tService ID:\t\t{ServiceSid}\n\n"
        "Network Information:\n\tClient Address:\t\t{IpAddress}\n\tClient Port:\t\t{IpPort}\n\n"
        "Additional Information:\n\tTicket Options:\t\t{TicketOptions}\n\tResult Code:\t\t{Status}\n"
        "\tTicket Encryption Type:\t{TicketEncryptionType}\n\tPre-Authentication Type:\t{PreAuthType}\n\n"
        "Certificate Information:\n\tCertificate Issuer Name:\t\t{CertIssuerName}\n"
        "\tCertificate Serial Number:\t{CertSerialNumber}\n\tCertificate Thumbprint:\t\t{CertThumbprint}\n\n"
        "Certificate information is only provided if a certificate was used for pre-authentication.\n\n"
        "Pre-authentication types, ticket options, encryption types and result codes are defined in RFC 4120.\n"
    ),
    4771: (
        "Kerberos pre-authentication failed.\n\n"
        "Account Information:\n\tSecurity ID:\t\t{TargetSid}\n\tAccount Name:\t\t{TargetUserName}\n\n"
        "Service Information:\n\tService Name:\t\t{ServiceName}\n\n"
        "Network Information:\n\tClient Address:\t\t{IpAddress}\n\tClient Port:\t\t{IpPort}\n\n"
        "Additional Information:\n\tTicket Options:\t\t{TicketOptions}\n\tFailure Code:\t\t{Status}\n"
        "\tPre-Authentication Type:\t{PreAuthType}\n\n"
        "Certificate Information:\n\tCertificate Issuer Name:\t\t{CertIssuerName}\n"
        "\tCertificate Serial Number: \t{CertSerialNumber}\n\tCertificate Thumbprint:\t\t{CertThumbprint}\n\n"
        "Certificate information is only provided if a certificate was used for pre-authentication.\n\n"
        "Pre-authentication types, ticket options and failure codes are defined in RFC 4120.\n"
    ),
    4776: (
        "The computer attempted to validate the credentials for an account.\n\n"
        "Authentication Package:\t{PackageName}\nLogon Account:\t{TargetUserName}\nSource Workstation:\t{Workstation}\n"
        "Error Code:\t{Status}\n"
    ),
    4648: (
        "A logon was attempted using explicit credentials.\n\n"
        "Subject:\n\tSecurity ID:\t\t{SubjectUserSid}\n\tAccount Name:\t\t{SubjectUserName}\n"
        "\tAccount Domain:\t\t{SubjectDomainName}\n\tLogon ID:\t\t{SubjectLogonId}\n\tLogon GUID:\t\t{LogonGuid}\n\n"
        "Account Whose Credentials Were Used:\n\tAccount Name:\t\t{TargetUserName}\n"
        "\tAccount Domain:\t\t{TargetDomainName}\n\tLogon GUID:\t\t{TargetLogonGuid}\n\n"
        "Target Server:\n\tTarget Server Name:\t{TargetServerName}\n\tAdditional Information:\t{TargetInfo}\n\n"
        "Process Information:\n\tProcess ID:\t\t{ProcessId}\n\tProcess Name:\t\t{ProcessName}\n\n"
        "Network Information:\n\tNetwork Address:\t{IpAddress}\n\tPort:\t\t\t{IpPort}\n\n"
        "This event is generated when a process attempts to log on an account by explicitly specifying that "
        "account's credentials.\n"
    ),
}
_SLOT = re.compile(r"\{(\w+)\}")


def render(event_id: int, data: dict[str, str], crlf: bool = True) -> str:
    """The message Windows shows for this event's data ("-" where a value is missing)."""
    template = TEMPLATES[event_id].replace("\n", "\r\n") if crlf else TEMPLATES[event_id]
    return _SLOT.sub(lambda m: data.get(m.group(1)) if data.get(m.group(1)) is not None else "-", template)
