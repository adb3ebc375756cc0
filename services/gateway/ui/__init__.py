"""The web control panel served under /ui/: server-rendered pages over the gateway's own functions."""
