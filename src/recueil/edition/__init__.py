"""Stage 5, editions: publish once into the archive, check PDF/A, compare editions, rebuild one."""
