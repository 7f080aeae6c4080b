"""Organisations and the provider data seeded into them."""
from __future__ import annotations

from portal.providers import current as current_providers
from sqlmodel import Session, select

from portal import rule_context
from portal.models import ClosureDay, Organization, ProviderSettingValue

SEEDED_KEY = "_defaults_seeded"


def create_organization(db: Session, name: str) -> Organization:
    org = Organization(name=name)
    db.add(org)
    db.flush()
    ensure_provider_defaults(db, org.id)
    return org


def ensure_provider_defaults(db: Session, organization_id: int) -> int:
    """Seed each installed provider's default closure days into the organisation once
    (a provider installed later is seeded by ``flask migrate``). Returns how many
    providers were seeded."""
    providers = current_providers()
    seeded = set(db.exec(select(ProviderSettingValue.provider).where(
        ProviderSettingValue.organization_id == organization_id, ProviderSettingValue.key == SEEDED_KEY)).all())
    count = 0
    for info in providers.all():
        if info.id in seeded:
            continue
        for rule in info.closure_defaults:
            db.add(ClosureDay(organization_id=organization_id, provider=info.id, start_date=rule.start,
                              end_date=rule.end, yearly=rule.yearly, label_ja=rule.label.ja, label_en=rule.label.en))
        db.add(ProviderSettingValue(organization_id=organization_id, provider=info.id, key=SEEDED_KEY, value=True))
        count += 1
    db.flush()
    return count


def ensure_all_organizations(db: Session) -> int:
    total = 0
    for org_id in db.exec(select(Organization.id)).all():
        total += ensure_provider_defaults(db, org_id)
    return total


ENABLED_KEY = rule_context.ENABLED_KEY
enabled_provider_ids = rule_context.enabled_provider_ids  # cached per rules version


def set_provider_enabled(db: Session, organization_id: int, provider_id: str, enabled: bool) -> bool:
    """Returns the previous state."""
    row = db.exec(select(ProviderSettingValue).where(
        ProviderSettingValue.organization_id == organization_id, ProviderSettingValue.provider == provider_id,
        ProviderSettingValue.key == ENABLED_KEY)).first()
    before = True if row is None else bool(row.value)
    row = row or ProviderSettingValue(organization_id=organization_id, provider=provider_id, key=ENABLED_KEY)
    row.value = enabled
    db.add(row)
    return before
