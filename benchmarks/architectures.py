"""The measurement behind the default architecture: CPU training and greedy-decoding throughput
of candidate VAE designs on random token batches of MOSES-like shape (46 tokens, 30 symbols).

    python benchmarks/architectures.py --repeats 3

Candidates: GRU encoder + GRU decoder (the chemical_vae / MOSES-VAE family), Transformer encoder +
causal Transformer decoder, and a 1-D conv encoder (flattened over positions) + GRU decoder, each
at a few widths, fp32 and bf16 autocast. Prints median molecules/s of training steps (batch 512)
and of step-by-step greedy decoding (batch 2000, 40 steps).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

V, T, Z = 30, 46, 64


class GRUEncoder(nn.Module):
    def __init__(self, e: int, h: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(e, h, batch_first=True, bidirectional=True)
        self.out_dim = 2 * h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, hn = self.rnn(x)
        return torch.cat([hn[0], hn[1]], -1)


class ConvEncoder(nn.Module):
    def __init__(self, e: int, c: int = 128, k: int = 5, hidden: int = 256) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(e, c, k, padding="same"), nn.GELU(),
                                  nn.Conv1d(c, c, k, padding="same"), nn.GELU(),
                                  nn.Conv1d(c, c, k, padding="same"), nn.GELU())
        self.fc = nn.Linear(T * c, hidden)
        self.out_dim = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.fc(self.conv(x.transpose(1, 2)).flatten(1)))


class RecurrentVAE(nn.Module):
    def __init__(self, encoder: str, h: int, e: int = 64) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, e)
        self.enc = GRUEncoder(e, h) if encoder == "gru" else ConvEncoder(e)
        self.stats = nn.Linear(self.enc.out_dim, 2 * Z)
        self.z_in, self.z_h = nn.Linear(Z, e), nn.Linear(Z, h)
        self.dec = nn.GRU(e, h, batch_first=True)
        self.out = nn.Linear(h, V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.emb(x)
        mu, logvar = self.stats(self.enc(emb)).chunk(2, -1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        o, _ = self.dec(emb + self.z_in(z)[:, None], torch.tanh(self.z_h(z))[None])
        return F.cross_entropy(self.out(o).reshape(-1, V).float(), x.reshape(-1))


class TransformerVAE(nn.Module):
    def __init__(self, d: int, layers: int) -> None:
        super().__init__()
        self.emb, self.pos = nn.Embedding(V, d), nn.Parameter(torch.zeros(T, d))

        def stack() -> nn.TransformerEncoder:
            layer = nn.TransformerEncoderLayer(d, 4, 4 * d, 0.0, batch_first=True,
                                               norm_first=True, activation="gelu")
            return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

        self.enc, self.dec = stack(), stack()
        self.stats, self.z_in, self.out = nn.Linear(d, 2 * Z), nn.Linear(Z, d), nn.Linear(d, V)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.emb(x) + self.pos
        mu, logvar = self.stats(self.enc(emb).mean(1)).chunk(2, -1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        o = self.dec(emb + self.z_in(z)[:, None], mask=self.mask, is_causal=True)
        return F.cross_entropy(self.out(o).reshape(-1, V).float(), x.reshape(-1))


def train_rate(model: nn.Module, bf16: bool, repeats: int, batch: int = 512) -> float:
    opt = torch.optim.Adam(model.parameters())
    x = torch.randint(0, V, (batch, T))
    rates = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:  # the first step warms up
            rates.append(batch / (time.perf_counter() - t))
    return statistics.median(rates)


@torch.inference_mode()
def decode_rate(h: int, bf16: bool, repeats: int, batch: int = 2000, steps: int = 40) -> float:
    emb, gru, out = nn.Embedding(V, 64), nn.GRU(64, h, batch_first=True), nn.Linear(h, V)
    z_in = torch.randn(batch, 1, 64)
    rates = []
    for _ in range(repeats):
        hs, tok = torch.zeros(1, batch, h), torch.zeros(batch, 1, dtype=torch.long)
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for _ in range(steps):
                o, hs = gru(emb(tok) + z_in, hs)
                tok = out(o[:, -1]).argmax(-1, keepdim=True)
        rates.append(batch / (time.perf_counter() - t))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    candidates = [
        ("GRU enc + GRU dec, h=256", lambda: RecurrentVAE("gru", 256), False),
        ("GRU enc + GRU dec, h=384", lambda: RecurrentVAE("gru", 384), False),
        ("GRU enc + GRU dec, h=512", lambda: RecurrentVAE("gru", 512), False),
        ("Transformer d=128 x2", lambda: TransformerVAE(128, 2), False),
        ("Transformer d=128 x3", lambda: TransformerVAE(128, 3), False),
        ("Transformer d=256 x3", lambda: TransformerVAE(256, 3), False),
        ("conv enc + GRU dec, h=256", lambda: RecurrentVAE("conv", 256), False),
        ("conv enc + GRU dec, h=256, bf16", lambda: RecurrentVAE("conv", 256), True),
        ("conv enc + GRU dec, h=384", lambda: RecurrentVAE("conv", 384), False),
        ("conv enc + GRU dec, h=384, bf16", lambda: RecurrentVAE("conv", 384), True),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| design | parameters | training molecules/s |")
    print("| --- | ---: | ---: |")
    for name, make, bf16 in candidates:
        model = make()
        n_params = sum(p.numel() for p in model.parameters())
        print(f"| {name} | {n_params:,} | {train_rate(model, bf16, args.repeats):.0f} |",
              flush=True)
    print("\n| GRU decoder | greedy decoding molecules/s |")
    print("| --- | ---: |")
    for h in (256, 384):
        for bf16 in (False, True):
            print(f"| h={h}{', bf16' if bf16 else ''} | "
                  f"{decode_rate(h, bf16, args.repeats):.0f} |", flush=True)


if __name__ == "__main__":
    main()
