"""molvae: molecular design in the latent space of a SELFIES variational autoencoder."""

__version__ = "0.1.0"
