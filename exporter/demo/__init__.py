"""``duskwatch demo``: the whole product on a fresh machine, stage by stage (see :mod:`.run`)."""
