"""The Merkle tree against RFC 9162's definitions and the published RFC 6962 test vectors."""

from __future__ import annotations

import hashlib

import pytest

from states import merkle

# the leaves and roots used by the reference implementations' tests (RFC 6962 test tree)
VECTOR_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def tree(n: int) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    """n leaf hashes and every perfect-subtree node a frontier completes for them."""
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = merkle.Frontier()
    for leaf in leaves:
        for level, index, h in frontier.append(leaf):
            nodes[level, index] = h
    return leaves, nodes


def test_the_empty_tree_and_the_rfc_test_vectors() -> None:
    assert merkle.Frontier().root().hex() == hashlib.sha256(b"").hexdigest()
    frontier = merkle.Frontier()
    for leaf, expected in zip(VECTOR_LEAVES, VECTOR_ROOTS, strict=True):
        frontier.append(merkle.leaf_hash(leaf))
        assert frontier.root().hex() == expected
    assert merkle.root_of([merkle.leaf_hash(x) for x in VECTOR_LEAVES]).hex() == VECTOR_ROOTS[-1]


@pytest.mark.parametrize("n", range(1, 34))
def test_frontier_root_equals_the_definition_and_survives_storage(n: int) -> None:
    leaves, nodes = tree(n)
    frontier = merkle.Frontier()
    frontier.extend(leaves)
    assert frontier.root() == merkle.root_of(leaves)
    again = merkle.Frontier.from_bytes(n, frontier.to_bytes())
    assert again.root() == frontier.root()
    rebuilt = merkle.Frontier.from_nodes(n, lambda level, index: nodes[level, index])
    assert rebuilt.hashes == frontier.hashes


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 21, 33])
def test_every_inclusion_proof_leads_to_the_root(n: int) -> None:
    leaves, nodes = tree(n)
    root = merkle.root_of(leaves)
    for i in range(n):
        proof = merkle.inclusion_proof(i, n, lambda lv, ix: nodes[lv, ix])
        assert merkle.root_from_inclusion(i, n, leaves[i], proof) == root
        if proof:  # a changed sibling, or the wrong leaf, leads elsewhere
            forged = [bytes(32), *proof[1:]]
            assert merkle.root_from_inclusion(i, n, leaves[i], forged) != root
        other = leaves[(i + 1) % n]
        if n > 1:
            assert merkle.root_from_inclusion(i, n, other, proof) != root


def test_a_dry_run_names_exactly_the_nodes_the_proofs_read() -> None:
    _, nodes = tree(1000)
    wanted = [0, 333, 511, 512, 998, 999]
    read: set[tuple[int, int]] = set()

    def counted(level: int, index: int) -> bytes:
        read.add((level, index))
        return nodes[level, index]

    proofs = [merkle.inclusion_proof(i, 1000, counted) for i in wanted]
    needed = merkle.nodes_needed(lambda n: [merkle.inclusion_proof(i, 1000, n) for i in wanted])
    assert needed == read
    only = {key: nodes[key] for key in needed}  # the proofs from those nodes alone
    assert [merkle.inclusion_proof(i, 1000, lambda lv, ix: only[lv, ix]) for i in wanted] == proofs


def test_a_proof_of_the_wrong_length_is_refused() -> None:
    leaves, nodes = tree(6)
    proof = merkle.inclusion_proof(2, 6, lambda lv, ix: nodes[lv, ix])
    with pytest.raises(ValueError, match="too short"):
        merkle.root_from_inclusion(2, 6, leaves[2], proof[:-1])
    with pytest.raises(ValueError, match="too long"):
        merkle.root_from_inclusion(2, 6, leaves[2], [*proof, bytes(32)])


def test_consistency_proofs_between_every_pair_of_sizes() -> None:
    leaves, nodes = tree(24)
    roots = [merkle.root_of(leaves[:n]) for n in range(25)]
    for new in range(1, 25):
        for old in range(1, new + 1):
            proof = merkle.consistency_proof(old, new, lambda lv, ix: nodes[lv, ix])
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)
            if old < new:
                # another old tree, or a rewritten one, is not extended by the new tree
                assert not merkle.verify_consistency(old, new, roots[old - 1], roots[new], proof)
                assert not merkle.verify_consistency(
                    old, new, roots[old], merkle.leaf_hash(b"x"), proof
                )
