"""A brand's program: points, cards, catalog and airdrop deployed together, wired by roles, recorded.

``deploy_program`` deploys the four contracts from the shipped artifacts and grants the roles that
connect them; the result is a :class:`ProgramRecord` saved in the deployments registry
(``deployments/<chain-id>/<program>.json``, see :mod:`loyalty_chain.registry`) and loaded back by
name with ``load_program``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from pathlib import Path

from eth_utils import keccak

from .artifacts import load_artifact
from .chain import Chain
from .deploy import deploy
from .errors import DeploymentError, InputError
from .expiry import ExpiryTerms
from .record_check import check_program_name
from .registry import (
    ProgramRecord,
    chain_fingerprint,
    list_programs,
    live_programs,
    load_program,
    record_path,
    registry_root,
    set_aside_if_stale,
)
from .signers import SignerLike, as_signer

__all__ = [
    "CONTRACTS",
    "DEFAULT_TIERS",
    "ProgramOptions",
    "ProgramRecord",
    "TransferPolicy",
    "deploy_program",
    "list_programs",
    "live_programs",
    "load_program",
    "record_path",
    "registry_root",
    "role",
]

CONTRACTS = ("LoyaltyPoints", "MembershipCard", "PerkCatalog", "AirdropDistributor")
DEFAULT_TIERS = ("Bronze", "Silver", "Gold")


def role(name: str) -> bytes:
    """An AccessControl role id: keccak256 of its name (``DEFAULT_ADMIN_ROLE`` is zero)."""
    return b"\0" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


class TransferPolicy(IntEnum):
    OPEN = 0
    LOCKED = 1
    ALLOWLIST = 2

    @classmethod
    def parse(cls, value: str | int | TransferPolicy) -> TransferPolicy:
        if isinstance(value, TransferPolicy):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(p.name.lower() for p in cls)
            raise InputError(f"unknown transfer policy {value!r}; choose one of {names}") from None


@dataclass(frozen=True)
class ProgramOptions:
    """Everything a brand chooses when it deploys a program."""

    name: str
    """The program's slug: names its deployment record and is how commands refer to it."""
    symbol: str = "PTS"
    decimals: int = 0
    """Loyalty points are usually whole."""
    tiers: tuple[str, ...] = DEFAULT_TIERS
    transfer_policy: TransferPolicy = TransferPolicy.OPEN
    soulbound: bool = False
    cap: int = 0
    """Maximum total supply in base units; 0 means no cap."""
    base_uri: str = ""
    display_name: str = ""
    """What wallets show as the token's name (the card is "<display name> Membership");
    default: the program's name."""
    expiry: ExpiryTerms | None = None
    """When points expire (ERC-7818: epochs and a validity); None: they never do. Chooses the points
    contract: ``ExpiringPoints`` instead of ``LoyaltyPoints``, whose costs stay those of today."""

    @property
    def token_name(self) -> str:
        return self.display_name.strip() or self.name

    def __post_init__(self) -> None:
        # Checked before anything is sent: a bad policy used to surface only after 8 transactions.
        try:
            policy = TransferPolicy.parse(self.transfer_policy)
        except ValueError:
            names = ", ".join(p.name.lower() for p in TransferPolicy)
            raise InputError(
                f"unknown transfer policy {self.transfer_policy!r}; choose one of {names}"
            ) from None
        object.__setattr__(self, "transfer_policy", policy)
        object.__setattr__(self, "tiers", tuple(self.tiers))

    def validate(self) -> None:
        check_program_name(self.name)
        if not 0 <= self.decimals <= 18:
            raise InputError(f"decimals must be 0..18, got {self.decimals}")
        if not 1 <= len(self.tiers) <= 255 or any(not t.strip() for t in self.tiers):
            raise InputError(f"tiers must be 1..255 non-empty names, got {list(self.tiers)}")
        if len({t.lower() for t in self.tiers}) != len(self.tiers):
            raise InputError(f"tier names must be distinct, got {list(self.tiers)}")
        if self.cap < 0:
            raise InputError(f"cap must not be negative, got {self.cap}")
        if len(self.token_name) > 64:
            raise InputError(f"display name must be at most 64 characters, got {len(self.token_name)}")
        if self.expiry is not None:
            self.expiry.validate(self.decimals)


def points_artifact(options: ProgramOptions) -> str:
    """The points contract a program gets: ``ExpiringPoints`` if its points expire."""
    return "LoyaltyPoints" if options.expiry is None else "ExpiringPoints"


def deploy_program(
    chain: Chain, options: ProgramOptions, sender: SignerLike, *, root: Path | None = None
) -> ProgramRecord:
    """Deploy the four contracts, wire their roles, and record the program in the registry.

    A live program of the same name on this chain is refused; a stale record of that name (its
    chain instance is gone) is set aside with a logged warning, and the name is reused.
    """
    options.validate()
    sender = as_signer(sender)
    set_aside_if_stale(chain, options.name, root)
    existing = record_path(chain.chain_id, options.name, root)
    if existing.is_file():
        raise DeploymentError(
            f"a program named {options.name!r} already exists on chain id {chain.chain_id} "
            f"(recorded in {existing}); choose another name"
        )
    admin = sender.address
    points_args: tuple[object, ...] = (options.decimals, options.cap, int(options.transfer_policy))
    if options.expiry is not None:
        terms = options.expiry
        points_args += (terms.type_code, terms.epoch_length, terms.validity)
    deployed = {
        "LoyaltyPoints": deploy(
            chain,
            points_artifact(options),
            options.token_name,
            options.symbol,
            *points_args,
            admin,
            sender=sender,
        ),
        "MembershipCard": deploy(
            chain,
            "MembershipCard",
            f"{options.token_name} Membership",
            f"{options.symbol}CARD",
            list(options.tiers),
            options.soulbound,
            options.base_uri,
            admin,
            sender=sender,
        ),
    }
    points, card = deployed["LoyaltyPoints"].contract, deployed["MembershipCard"].contract
    for name in ("PerkCatalog", "AirdropDistributor"):
        deployed[name] = deploy(chain, name, points.address, card.address, admin, sender=sender)
    catalog, airdrop = deployed["PerkCatalog"].contract, deployed["AirdropDistributor"].contract
    contracts = {name: d.contract for name, d in deployed.items()}

    from .decoding import ErrorDecoder
    from .sender import Sender

    tx = Sender(chain, sender, ErrorDecoder(contracts))
    grants = [
        points.functions.grantRole(role("REDEEMER_ROLE"), catalog.address),
        # the catalog's redeemBurn then skips the role lookup (it keeps REDEEMER_ROLE either way)
        points.functions.setRedemptionCatalog(catalog.address),
        points.functions.grantRole(role("ISSUER_ROLE"), airdrop.address),
        card.functions.grantRole(role("ISSUER_ROLE"), airdrop.address),
    ]
    for result in tx.send_many(grants, gas=120_000):
        if isinstance(result, Exception):
            raise DeploymentError(f"wiring roles failed: {result}")

    first_block = min(d.block for d in deployed.values())
    genesis_hash, block_hash = chain_fingerprint(chain, first_block)
    record = ProgramRecord(
        name=options.name,
        chain_id=chain.chain_id,
        addresses={name: str(c.address) for name, c in contracts.items()},
        tx_hashes={name: d.tx_hash for name, d in deployed.items()},
        block=first_block,
        deployer=str(admin),
        compiler=load_artifact("LoyaltyPoints").compiler,
        artifact_hashes={
            name: load_artifact(points_artifact(options) if name == "LoyaltyPoints" else name).bytecode_hash
            for name in CONTRACTS
        },
        options={
            **{k: v for k, v in asdict(options).items() if k != "expiry" or v is not None},
            "transfer_policy": options.transfer_policy.name.lower(),
            "tiers": list(options.tiers),
        },
        genesis_hash=genesis_hash,
        block_hash=block_hash,
        root=root or registry_root(),
    )
    record.save()
    return record
