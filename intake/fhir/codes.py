"""The codes of the FHIR export: standard code systems where a standard code
exists and is certain, the clinic's own code system otherwise. Pure.

Every coded element also carries the clinic's own coding, so nothing the
clinic recorded is lost when a reader does not know the standard code. The
clinic's code systems live under its public address
(``<base>/fhir/CodeSystem/<name>``).
"""

from __future__ import annotations

from collections.abc import Mapping

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"
ISO3166 = "urn:iso:std:iso:3166"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def clinic_system(base: str, name: str) -> str:
    """One of the clinic's code systems: ``<base>/fhir/CodeSystem/<name>``."""
    return f"{base.rstrip('/')}/fhir/CodeSystem/{name}"


def clinic_naming(base: str, name: str) -> str:
    """One of the clinic's identifier systems: ``<base>/fhir/NamingSystem/<name>``."""
    return f"{base.rstrip('/')}/fhir/NamingSystem/{name}"


# --------------------------------------------------------------------------- patients

#: The record's sex → FHIR administrative gender.
GENDER: Mapping[str, str] = {
    "female": "female",
    "male": "male",
    "other": "other",
    "unknown": "unknown",
}

#: The clinic's languages → BCP-47 tags.
LANGUAGE_TAGS: Mapping[str, str] = {"en": "en", "zh_Hans": "zh-CN", "ja": "ja"}


def gender(sex: str | None) -> str:
    return GENDER.get(sex or "", "unknown")


def language_tag(locale: str | None) -> str:
    return LANGUAGE_TAGS.get(locale or "", "en")


# --------------------------------------------------------------------------- panel tests

#: The default panel's tests that have a LOINC code (each checked against
#: loinc.org). A clinic's own tests, and the default ones without a certain
#: code (HBeAg, anti-HBe, TP antibody, RPR, anti-HTLV-1), use the clinic's
#: code system only.
PANEL_LOINC: Mapping[str, tuple[str, str]] = {
    "HBsAg": ("5195-3", "Hepatitis B virus surface Ag [Presence] in Serum"),
    "anti-HBs": ("10900-9", "Hepatitis B virus surface Ab [Presence] in Serum by Immunoassay"),
    "anti-HBc": ("16933-4", "Hepatitis B virus core Ab [Presence] in Serum"),
    "anti-HCV": ("16128-1", "Hepatitis C virus Ab [Presence] in Serum"),
    "anti-HIV": ("31201-7", "HIV 1+2 Ab [Presence] in Serum or Plasma by Immunoassay"),
}


def panel_codings(base: str, item_code: str, display: str) -> list[dict]:
    """LOINC first when the test has a code, then always the clinic's own."""
    codings = []
    if item_code in PANEL_LOINC:
        code, loinc_display = PANEL_LOINC[item_code]
        codings.append({"system": LOINC, "code": code, "display": loinc_display})
    codings.append(
        {"system": clinic_system(base, "panel-tests"), "code": item_code, "display": display}
    )
    return codings


# --------------------------------------------------------------------------- vital signs

#: Vital signs: key → (LOINC code, display, UCUM unit).
VITALS: Mapping[str, tuple[str, str, str]] = {
    "blood_pressure": ("85354-9", "Blood pressure panel with all children optional", ""),
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "pulse": ("8867-4", "Heart rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
}
#: SpO2 also carries the general oxygen saturation code (the FHIR vital-signs profile).
SPO2_GENERAL = ("2708-6", "Oxygen saturation in Arterial blood")

UNIT_TEXT: Mapping[str, str] = {"mm[Hg]": "mmHg", "/min": "beats/minute", "Cel": "C", "%": "%"}


def vital_coding(key: str) -> list[dict]:
    code, display, _unit = VITALS[key]
    codings = [{"system": LOINC, "code": code, "display": display}]
    if key == "spo2":
        codings.append({"system": LOINC, "code": SPO2_GENERAL[0], "display": SPO2_GENERAL[1]})
    return codings


def ucum(value, unit_code: str) -> dict:
    return {
        "value": value,
        "unit": UNIT_TEXT.get(unit_code, unit_code),
        "system": UCUM,
        "code": unit_code,
    }


# --------------------------------------------------------------------------- specimens

#: Specimen types: key → SNOMED CT (code, display) where certain, else None.
SPECIMEN_SNOMED: Mapping[str, tuple[str, str] | None] = {
    "blood": ("119297000", "Blood specimen"),
    "adipose_tissue": None,
}
SPECIMEN_NAMES: Mapping[str, str] = {
    "blood": "Blood (for autologous serum)",
    "adipose_tissue": "Adipose tissue",
}


def specimen_codings(base: str, key: str) -> list[dict]:
    codings = []
    standard = SPECIMEN_SNOMED.get(key)
    if standard is not None:
        codings.append({"system": SNOMED, "code": standard[0], "display": standard[1]})
    codings.append(
        {
            "system": clinic_system(base, "specimen-types"),
            "code": key,
            "display": SPECIMEN_NAMES[key],
        }
    )
    return codings


# --------------------------------------------------------------------------- adverse events

#: The clinic's seriousness → the FHIR seriousness (serious / non-serious).
SERIOUSNESS: Mapping[str, str] = {
    "death": "serious",
    "life_threatening": "serious",
    "hospitalisation": "serious",
    "disability": "serious",
    "other_serious": "serious",
    "not_serious": "non-serious",
}
SERIOUSNESS_DISPLAY: Mapping[str, str] = {"serious": "Serious", "non-serious": "Non-serious"}


def seriousness_codings(base: str, seriousness: str) -> list[dict]:
    fhir = SERIOUSNESS[seriousness]
    return [
        {"system": AE_SERIOUSNESS, "code": fhir, "display": SERIOUSNESS_DISPLAY[fhir]},
        {"system": clinic_system(base, "adverse-event-seriousness"), "code": seriousness},
    ]


# --------------------------------------------------------------------------- visits

#: Appointment status → FHIR appointment status.
APPOINTMENT_STATUS: Mapping[str, str] = {
    "booked": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}

#: Administration routes (the clinic's codes) in words.
ROUTE_NAMES: Mapping[str, str] = {
    "iv": "Intravenous drip",
    "local": "Local injection",
    "intrathecal": "Intrathecal (subarachnoid) injection",
}


def route_name(route: str) -> str:
    return ROUTE_NAMES.get(route, route)
