"""moto, as the emulator runs it, made to cost what DynamoDB costs: a
request's time depends on what it touches, not on how much the table
holds. moto (5.x) is written for small test tables: a Query walks and
sorts every item of the table, a transaction deep-copies every table it
names. The load benchmark (thousands of items) then measured moto, not
callmask. Each patch keeps what a request sees: same items, same order,
same errors; only the work behind them shrinks.

Every DynamoDB request runs under the emulator's lock (stack.py), one at a
time, which these patches rely on.
"""
import copy
import json

def dispatch_without_rescanning():
    """moto's per-request dispatch without the work that never changes.

    For every request moto lists its own package directory twice (an
    `os.listdir` and ~150 `isdir` calls, to ask whether the Host header
    names a service) and walks the response class with `inspect` to find
    the action's method. Both answers are fixed once moto is imported, so
    they are computed once here: a GetItem costs ~40% less emulator time,
    which every test and the benchmarks' storage requests (floor included)
    pay. Nothing a request sees changes."""
    import functools

    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    moto.core.responses.method_names_from_class = functools.cache(moto.core.responses.method_names_from_class)


def undo_log_transactions():
    """Transactions that cost what they touch, not what the table holds.

    moto backs a TransactWriteItems up by deep-copying every table it names
    and restores the copies if it is cancelled, so each transaction costs
    time in proportion to the whole table (tests and benchmarks slowed down
    as their tables grew). DynamoDB's own latency does not depend on table
    size. Requests here run one at a time (the lock in `Emulator`), so an
    undo log is the same rollback: copy each item the transaction names
    before it runs and put those back (and drop the stream records it
    wrote) when it is cancelled."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesNotCopied:
        # The `copy` module as moto's backend sees it: a Table is not copied
        # (only the transaction backup copies tables; items still are).
        @staticmethod
        def deepcopy(x, memo=None):
            return x if isinstance(x, Table) else copy.deepcopy(x, memo)

    models.copy = TablesNotCopied
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        undo = []
        for entry in transact_items:
            for op in entry.values():
                table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                attrs = op.get("Key") or op.get("Item") or {}
                h = attrs.get(table.hash_key_attr)
                r = attrs.get(table.range_key_attr) if table.range_key_attr else None
                if h is None or (table.range_key_attr and r is None):
                    continue
                hk = DynamoType(h)
                rk = DynamoType(r) if r is not None else None
                shard = table.stream_shard
                undo.append((table, hk, rk, copy.deepcopy(table.get_item(hk, rk)),
                             len(shard.items) if shard is not None else 0))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hk, rk, old, streamed in reversed(undo):
                if rk is None:
                    holder, key = table.items, hk
                else:
                    holder, key = table.items[hk], rk
                if old is None:
                    holder.pop(key, None)
                    if rk is not None and not holder:
                        table.items.pop(hk, None)
                else:
                    holder[key] = old
                if table.stream_shard is not None:
                    del table.stream_shard.items[streamed:]
                reindex(table, hk, rk)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


# Each table's global-index map, built on its first index Query and kept up
# to date by every write: {id(table): (table, state)}. Kept outside the
# Table object, which moto's state dump (`/moto-api/data.json`) serialises.
_INDEXES: dict[int, tuple[object, dict]] = {}


def _value_key(value) -> str:
    return json.dumps(value.to_json(), sort_keys=True)


def _hash_attrs(table) -> dict[str, str]:
    """Each global index's one hash attribute (an index keyed on several
    hash attributes is left to moto's own walk)."""
    names = {}
    for index in table.global_indexes or []:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        if len(hashes) == 1:
            names[index.name] = hashes[0]
    return names


def _item_at(table, key):
    h, r = key
    held = table.items.get(h)
    if held is None or not table.range_key_attr:
        return held
    return held.get(r)


def _index_key(table, state, key):
    """(Re)files one item key under the index values its item has now."""
    for name, value in state["rev"].pop(key, ()):
        keys = state["idx"][name].get(value)
        if keys is not None:
            keys.discard(key)
    item = _item_at(table, key)
    if item is None:
        return
    filed = []
    for name, attr in state["attrs"].items():
        value = item.attrs.get(attr)
        if value is not None:
            v = _value_key(value)
            state["idx"][name].setdefault(v, set()).add(key)
            filed.append((name, v))
    if filed:
        state["rev"][key] = filed


def _state(table) -> dict:
    held = _INDEXES.get(id(table))
    if held is not None and held[0] is table:
        return held[1]
    attrs = _hash_attrs(table)
    state = {"attrs": attrs, "idx": {name: {} for name in attrs}, "rev": {}}
    for h, held_items in list(table.items.items()):
        if table.range_key_attr:
            for r in list(held_items):
                _index_key(table, state, (h, r))
        else:
            _index_key(table, state, (h, None))
    _INDEXES[id(table)] = (table, state)
    return state


def reindex(table, hash_key, range_key):
    """After any write to (hash_key, range_key): file it anew, if the table
    has an index map (one is built from the items when first queried)."""
    held = _INDEXES.get(id(table))
    if held is not None and held[0] is table:
        _index_key(table, held[1], (hash_key, range_key))


def indexed_queries():
    """A Query reads its partition (or its index partition), not the table.

    moto's Table.query walks `all_items()`, which lists and sorts every
    item in the table, then keeps those whose key matches: each Query cost
    time in proportion to the table, and the load benchmark's session
    creations (three queries each, on a table of thousands of items) spent
    most of the emulator's time there. Here `all_items()` is narrowed, for
    one Query, to the items that can match: the partition of a table Query,
    or the items filed under the index's hash value (a map kept by wrapping
    every write: put, update, delete, each transaction item, the undo log).
    moto's own filtering, sorting, paging and errors then run as before."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def raw_key(table, attrs):
        h = attrs.get(table.hash_key_attr) if isinstance(attrs, dict) else None
        if h is None:
            return None
        r = None
        if table.range_key_attr:
            r = attrs.get(table.range_key_attr)
            if r is None:
                return None
            r = DynamoType(r)
        return DynamoType(h), r

    def after_write(method):
        original = getattr(models.DynamoDBBackend, method)

        def wrapped(self, table_name, attrs, *args, **kwargs):
            try:
                return original(self, table_name, attrs, *args, **kwargs)
            finally:
                table = self.tables.get(table_name)
                key = raw_key(table, attrs) if table is not None else None
                if key is not None:
                    reindex(table, *key)

        setattr(models.DynamoDBBackend, method, wrapped)

    for method in ("put_item", "update_item", "delete_item"):
        after_write(method)

    original_query = Table.query
    order = (lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def candidates(table, hash_key, index_name, conditions):
        if not index_name:
            if hash_key is None:
                return None
            held = table.items.get(hash_key)
            if held is None:
                return []
            return list(held.values()) if table.range_key_attr else [held]
        state = _state(table)
        attr = state["attrs"].get(index_name)
        wanted = [v for name, v in conditions or () if name == attr]
        if attr is None or len(wanted) != 1:
            return None
        keys = state["idx"][index_name].get(_value_key(wanted[0]), ())
        return [item for item in map(lambda k: _item_at(table, k), keys) if item is not None]

    def query(self, *args, **kwargs):
        hash_key = args[0] if args else kwargs.get("hash_key")
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        items = candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        if items is None:
            return original_query(self, *args, **kwargs)
        self.all_items = lambda: sorted(items, key=order)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query
