"""The model relay: the one place outside the sandbox where model credentials, spend and turns are handled."""
