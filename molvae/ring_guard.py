"""Ring sizes known while a SELFIES string is written, so decoding can refuse macrocycles.

A SELFIES ring symbol closes a ring between the current atom and the atom ``Q + 1`` places back
in the order atoms were placed, ``Q`` read from the symbols that follow it. One wrong index
symbol turns a benzene into a 12-membered ring, and that is the decoder's commonest mistake (the
model card, "What holds it back"). :class:`SelfiesCursor` follows the derivation symbol by symbol
(the rules of selfies 2's decoder: branch budgets, bonding capacity, ring targets) and, when the
next symbol is a ring's index, says which index symbols would close a ring of more than
``limit`` atoms, so :meth:`molvae.model.VAE.generate` can take the decoder's best other choice.

The cursor mirrors selfies' semantics rather than calling its private functions; a test checks
its ring sizes against RDKit's on real molecules, so a change in selfies shows up there.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from molvae.vocab import SPECIAL_TOKENS, Vocabulary

#: selfies 2's index alphabet: the symbols after a branch or ring symbol read as base-16 digits;
#: every other symbol reads as 0.
INDEX_ALPHABET = (
    "[C]", "[Ring1]", "[Ring2]",
    "[Branch1]", "[=Branch1]", "[#Branch1]",
    "[Branch2]", "[=Branch2]", "[#Branch2]",
    "[O]", "[N]", "[=N]", "[=C]", "[#C]", "[S]", "[P]",
)
_BASE = len(INDEX_ALPHABET)

_OTHER, _ATOM, _BRANCH, _RING = 0, 1, 2, 3
_BOND_ORDER = {"": 1, "=": 2, "#": 3, "/": 1, "\\": 1}
_ATOM_RE = re.compile(r"^\[([=#/\\]?)(\d*)([A-Z][a-z]?)(@{0,2})((?:H\d)?)((?:[+-]\d+)?)\]$")
_CONTROL_RE = re.compile(r"^\[([=#]?|[-/\\]{2})(Branch|Ring)([123])\]$")


@dataclass(frozen=True)
class SymbolTable:
    """What each token id of a vocabulary does in a derivation, read once from its symbols.

    ``kind`` is atom, branch, ring or other (special tokens); ``order`` the bond order an atom
    asks for, or the branch's or ring's bond order; ``capacity`` an atom's bonding capacity under
    the model's constraints; ``n_index`` how many index symbols a branch or ring reads; ``code``
    the value a token has as an index symbol.
    """

    kind: tuple[int, ...]
    order: tuple[int, ...]
    capacity: tuple[int, ...]
    n_index: tuple[int, ...]
    code: np.ndarray

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> SymbolTable:
        kind, order, capacity, n_index = [], [], [], []
        for i, symbol in enumerate(vocab.symbols):
            k, o, c, n = _describe(symbol, vocab.constraints) if i >= len(SPECIAL_TOKENS) else (
                _OTHER, 0, 0, 0)
            kind.append(k)
            order.append(o)
            capacity.append(c)
            n_index.append(n)
        code = np.array([INDEX_ALPHABET.index(s) if s in INDEX_ALPHABET else 0
                         for s in vocab.symbols], dtype=np.int64)
        return cls(tuple(kind), tuple(order), tuple(capacity), tuple(n_index), code)


def _describe(symbol: str, constraints: dict[str, int]) -> tuple[int, int, int, int]:
    control = _CONTROL_RE.match(symbol)
    if control:
        bond, what, n = control.groups()
        kind = _BRANCH if what == "Branch" else _RING
        return kind, _BOND_ORDER.get(bond[:1] if kind == _BRANCH else bond[-1:], 1), 0, int(n)
    atom = _ATOM_RE.match(symbol)
    if not atom:
        return _OTHER, 0, 0, 0
    bond, _isotope, element, _chiral, h, charge = atom.groups()
    key = element + (f"{int(charge):+d}" if charge and int(charge) else "")
    cap = constraints.get(key, constraints.get("?", 8)) - (int(h[1:]) if h else 0)
    return _ATOM, _BOND_ORDER[bond], cap, 0


class _Frame:
    """One level of the derivation: the main chain or a branch with its symbol budget."""

    __slots__ = ("state", "prev", "used", "budget")

    def __init__(self, state: int | None, prev: int, budget: float) -> None:
        self.state, self.prev, self.used, self.budget = state, prev, 0, budget


@dataclass
class _Closure:
    """A ring closure as read: selfies forms it once the whole string is derived."""

    first_index: int  # position of its first index symbol
    target: int
    atom: int
    order: int
    allowed: np.ndarray | None  # index values there that close no ring over the limit


class SelfiesCursor:
    """The derivation of one molecule so far: atoms placed, bonds made, rings to be closed.

    Feed it the decoder's tokens with :meth:`step`; while a ring's index is being read,
    :meth:`allowed_codes` says which index values keep the new ring at ``limit`` atoms or fewer,
    and :meth:`first_large_ring` finds, once the molecule is written, the closure to take back.
    """

    def __init__(self, table: SymbolTable, limit: int) -> None:
        self.table, self.limit = table, limit
        self.capacity: list[int] = []
        self.chain: list[list[tuple[int, int]]] = []  # (neighbour, order) of the chain's bonds
        self.closures: list[_Closure] = []
        self.frames = [_Frame(0, -1, float("inf"))]
        self.pending: tuple[int, int, int, list[int], _Frame, int | None] | None = None
        self.position = -1  # of the last token stepped over

    @property
    def reading_ring_index(self) -> bool:
        return self.pending is not None and self.pending[0] == _RING

    def step(self, token: int) -> None:
        """Advance over one token (the caller stops at the end token)."""
        t = self.table
        self.position += 1
        if self.pending is not None:
            self._count()
            kind, order, n, codes, frame, after = self.pending
            codes.append(int(t.code[token]))
            if len(codes) == n:
                self.pending = None
                self._resolve(kind, order, _index(codes), n, frame, after)
            return
        frames = self.frames
        while len(frames) > 1 and frames[-1].used >= frames[-1].budget:
            frames.pop()
        frame = frames[-1]
        self._count()
        if frame.state is None:  # the frame has ended; its budget is consumed unread
            return
        kind, state = t.kind[token], frame.state
        if kind == _ATOM:
            cap = t.capacity[token]
            bond = 0 if state == 0 else min(t.order[token], state, cap)
            if bond == 0 and state != 0:  # an atom that cannot bond ends the chain unplaced
                frame.state = None
                return
            atom = len(self.chain)
            self.capacity.append(cap)
            self.chain.append([])
            if bond:
                self.chain[frame.prev].append((atom, bond))
                self.chain[atom].append((frame.prev, bond))
            frame.prev, frame.state = atom, (cap - bond if cap > bond else None)
        elif kind == _BRANCH:
            if state > 1:
                init = min(state - 1, t.order[token])
                self.pending = (_BRANCH, init, t.n_index[token], [], frame, state - init)
        elif kind == _RING:
            if state != 0:
                order = min(t.order[token], state)
                self.pending = (_RING, order, t.n_index[token], [], frame,
                                state - order if state > order else None)

    def allowed_codes(self) -> np.ndarray | None:
        """(16,) bool: the index values of the next symbol that close no ring larger than the
        limit, or None when nothing needs refusing (or nothing could be allowed)."""
        if not self.reading_ring_index:
            return None
        _kind, _order, n, codes, frame, _after = self.pending
        return self._allowed(frame.prev, codes, n, self._graph())

    def rings(self) -> list[list[int]]:
        """The molecule's bonds as selfies will form them: neighbours of each atom."""
        return self._graph()

    def first_large_ring(self) -> tuple[int, np.ndarray | None] | None:
        """The first closure whose smallest ring, in the molecule as written, has more atoms than
        the limit: the position of its first index symbol and the index values allowed there.
        None when every ring is within the limit.

        A closure may make a large ring that a later one cuts in two (a fused ring system closed
        around its rim, as canonical SMILES often writes naphthalenes): that one is fine."""
        graph, formed = self._graph(with_formed=True)
        for closure in formed:
            a, b = closure.target, closure.atom
            if _distances(graph, a, without=(a, b))[b] + 1 > self.limit:
                return closure.first_index, closure.allowed
        return None

    # --- internals ---------------------------------------------------------------------------
    def _count(self) -> None:
        for f in self.frames:
            f.used += 1

    def _resolve(self, kind: int, order: int, q: int, n: int, frame: _Frame,
                 after: int | None) -> None:
        frame.state = after
        if kind == _BRANCH:
            self.frames.append(_Frame(order, frame.prev, q + 1))
            return
        target = max(0, frame.prev - (q + 1))
        first = self.position - n + 1
        graph = self._graph()
        dist = _distances(graph, frame.prev)[target]
        allowed = (self._allowed(frame.prev, [], n, graph)
                   if dist + 1 > self.limit > 0 else None)
        self.closures.append(_Closure(first, target, frame.prev, order, allowed))

    def _graph(self, with_formed: bool = False):
        """Bonds after selfies' last step: ring bonds in the order read, each where both atoms
        have room left (the one a closure starts from kept room for it), none between atoms
        already bonded (that raises the bond order) or from an atom to itself."""
        graph = [[b for b, _ in nbrs] for nbrs in self.chain]
        used = [sum(o for _, o in nbrs) for nbrs in self.chain]
        formed = []
        for c in self.closures:
            a, b = c.target, c.atom
            if a == b:
                continue
            room = min(self.capacity[a] - used[a], self.capacity[b] - used[b])
            if room <= 0:
                continue
            order = min(c.order, room)
            used[a] += order  # a raised bond order counts as much as a new bond
            used[b] += order
            if b not in graph[a]:
                graph[a].append(b)
                graph[b].append(a)
                formed.append(c)
        return (graph, formed) if with_formed else graph

    def _allowed(self, prev: int, codes: Sequence[int], n: int,
                 graph: list[list[int]]) -> np.ndarray | None:
        dist = np.array(_distances(graph, prev)[: prev + 1])
        ok = (dist <= 1) | (dist + 1 <= self.limit)
        if ok.all():
            return None
        prefix, rest = _index(codes), n - len(codes) - 1
        span = _BASE ** rest
        allowed = np.zeros(_BASE, dtype=bool)
        # A ring target is max(0, prev - Q - 1): a run of Q values is a run of targets.
        cum = np.concatenate([[0], np.cumsum(ok)])
        for c in range(_BASE):
            q_lo = (prefix * _BASE + c) * span
            q_hi = q_lo + span - 1
            t_lo, t_hi = max(0, prev - q_hi - 1), max(0, prev - q_lo - 1)
            allowed[c] = cum[t_hi + 1] - cum[t_lo] > 0
        return allowed if allowed.any() and not allowed.all() else None


def _distances(graph: list[list[int]], source: int,
               without: tuple[int, int] | None = None) -> list[int]:
    """Bonds from ``source`` to every atom (-1: unreachable), optionally not using one bond."""
    dist = [-1] * len(graph)
    dist[source] = 0
    queue = deque([source])
    while queue:
        a = queue.popleft()
        for b in graph[a]:
            if without is not None and a in without and b in without:
                continue
            if dist[b] < 0:
                dist[b] = dist[a] + 1
                queue.append(b)
    return dist


def _index(codes: Sequence[int]) -> int:
    q = 0
    for c in codes:
        q = q * _BASE + c
    return q


def derive(tokens: Sequence[int], table: SymbolTable, limit: int) -> SelfiesCursor:
    """A cursor stepped over a decoded row up to its end token."""
    cursor = SelfiesCursor(table, limit)
    for tok in tokens:
        if int(tok) < len(SPECIAL_TOKENS):
            break
        cursor.step(int(tok))
    return cursor


def refuse_large_rings(
    generate: Callable[..., torch.Tensor], z: torch.Tensor, table: SymbolTable, limit: int, *,
    rounds: int = 4, take_back: str = "index", **kwargs,
) -> torch.Tensor:
    """Token ids (B, T) of ``generate(z, **kwargs)``, with each molecule that closes a ring of
    more than ``limit`` atoms decoded again, its closure refused (the decoder's best choice
    among the index symbols that keep the ring small takes its place), up to ``rounds`` times.

    A molecule without such a ring comes back exactly as ``generate`` wrote it, so this costs a
    derivation per molecule and a second decode of the few that need one.
    """
    tokens = generate(z, **kwargs)
    vocab_size = len(table.kind)
    codes = torch.as_tensor(table.code)
    refusals: dict[int, torch.Tensor] = {}
    todo = list(range(len(z)))
    for _ in range(rounds):
        found = []
        for i in todo:
            culprit = derive(tokens[i].tolist(), table, limit).first_large_ring()
            if culprit is not None:
                found.append((i, culprit))
        if not found:
            break
        width = tokens.shape[1]
        for i, (pos, allowed) in found:
            refused = refusals.setdefault(i, torch.zeros(width, vocab_size, dtype=torch.bool))
            if take_back == "symbol":
                refused[pos - 1, int(tokens[i, pos - 1])] = True
                continue
            if allowed is not None:
                refused[pos] |= ~torch.as_tensor(allowed)[codes]
            refused[pos, int(tokens[i, pos])] = True
        todo = [i for i, _ in found]
        redo = generate(z[todo], refused=torch.stack([refusals[i] for i in todo]), **kwargs)
        if redo.shape[1] > tokens.shape[1]:
            tokens = torch.nn.functional.pad(tokens, (0, redo.shape[1] - tokens.shape[1]))
        tokens[todo] = 0
        tokens[todo, : redo.shape[1]] = redo
    return tokens
