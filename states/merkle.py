"""The Merkle tree of the audit log, by the rules of RFC 9162 (Certificate Transparency 2.0).

- A leaf's hash is ``SHA-256(0x00 || entry bytes)``; an interior node's is
  ``SHA-256(0x01 || left || right)``; the root of the empty tree is ``SHA-256("")``.
- The tree over ``n`` leaves splits at ``k``, the largest power of two smaller than ``n``
  (RFC 9162 §2.1.1), so every subtree the recursion visits is either a *perfect* subtree of
  ``2**level`` leaves starting at a multiple of ``2**level`` — stored by the sequencer as node
  ``(level, index)`` — or is made of such subtrees.
- :class:`Frontier` is the compact range of a growing tree: the roots of its perfect subtrees,
  largest first, one per set bit of the tree size. Appending a leaf completes the nodes that
  the sequencer stores; the root is the frontier folded from the right.
- Inclusion and consistency proofs are generated and verified as RFC 9162 §2.1.3 and §2.1.4
  say, from a function that returns a stored perfect-subtree hash.

Nothing here touches a database: :data:`NodeSource` is whatever returns ``(level, index)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: returns the hash of the perfect subtree of ``2**level`` leaves starting at leaf
#: ``index * 2**level``
NodeSource = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of one leaf, with its domain-separation prefix."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes, straight from the definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


@dataclass
class Frontier:
    """The compact range of a tree of ``size`` leaves: perfect-subtree roots, largest first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; return every node it completes as ``(level, index, hash)``.

        The leaf itself is returned as ``(0, position, leaf)``, then each perfect subtree
        that the new leaf closes, lowest first.
        """
        index = self.size
        done = [(0, index, leaf)]
        current = leaf
        level = 0
        size = self.size
        while size & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            size >>= 1
            done.append((level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return done

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The tree's root: the frontier folded from the right (RFC 9162's MTH)."""
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc

    def copy(self) -> Frontier:
        return Frontier(self.size, list(self.hashes))

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        hashes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of size {size} has {bin(size).count('1')} hashes")
        return cls(size, hashes)

    @classmethod
    def from_nodes(cls, size: int, node: NodeSource) -> Frontier:
        """The frontier of the first ``size`` leaves, read from stored perfect subtrees."""
        hashes: list[bytes] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                hashes.append(node(level, start >> level))
                start += 1 << level
        return cls(size, hashes)


def nodes_needed(build: Callable[[NodeSource], object]) -> set[tuple[int, int]]:
    """The stored subtrees ``build`` reads, found by running it on placeholder hashes.

    Which perfect subtrees a proof reads depends only on the positions, never on the hashes,
    so a dry run names them all and the caller fetches them in one query.
    """
    wanted: set[tuple[int, int]] = set()

    def placeholder(level: int, idx: int) -> bytes:
        wanted.add((level, idx))
        return EMPTY_ROOT

    build(placeholder)
    return wanted


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """MTH of leaves ``[start, end)``; ``start`` must be aligned as RFC 9162's recursion has it."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append(subtree_hash(start + k, end, node))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, node))
            start, m = start + k, m - k
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to (raises if it is malformed)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ValueError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the inclusion proof is too short")
    return r


def consistency_proof(old: int, new: int, node: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the proof that the tree of ``new`` leaves extends that of ``old``."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old == new:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end, node))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, node))
            start, m = start + k, m - k
            complete = False
    if not complete:
        proof.append(subtree_hash(start, end, node))
    proof.reverse()
    return proof


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the ``new`` tree extends the ``old`` one?"""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # old is an exact power of two: its root is the first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
