"""Named plug-ins of one kind (strategies, drivers): each registered once under its name and looked up
by it, every error naming the field and what is allowed."""

from rxlab.errors import bad, check_choice


class Registry(dict):
    """{name: plug-in} for plug-ins of class ``kind`` (each with a ``name``), called ``field`` in errors."""

    def __init__(self, field, kind):
        super().__init__()
        self.field, self.kind = field, kind

    def register(self, item):
        """Add ``item`` under its name (a name is registered once); returns it."""
        if not isinstance(item, self.kind):
            raise bad(self.field, item, f"an {self.kind.__module__}.{self.kind.__name__}")
        if item.name in self:
            raise bad(f"{self.field}.name", item.name, "a name not registered yet: " + ", ".join(self))
        self[item.name] = item
        return item

    def unregister(self, name):
        """Remove a registered plug-in (a test's or a notebook's own)."""
        check_choice(self.field, name, tuple(self))
        del self[name]

    def lookup(self, name):
        """The plug-in registered as ``name``."""
        check_choice(self.field, name, tuple(self))
        return self[name]
