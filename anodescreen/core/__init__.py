"""What host families, properties and the campaign drivers share: :class:`~anodescreen.core.host.Host`
and the family interface, calculation requests and their keys, quantities and plans, the
property interface and the row builders."""
