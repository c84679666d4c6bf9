"""Application layer: dialogue engine, account answers, storage and front ends."""
