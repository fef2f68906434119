"""The constraints the Recommendation states in prose beside the grammar, checked on the tree.

* VALUES rows have as many values as the block has variables (section 10.2.1);
* a variable assigned by ``(expr AS ?v)`` is not already in scope, nor projected twice, and
  ``BIND(... AS ?v)`` does not assign a variable in scope in its group so far (section 18.2.1);
* in an aggregate query (GROUP BY, or an aggregate in SELECT / HAVING / ORDER BY) ``SELECT *``
  is not allowed and every projected variable is grouped (section 18.2.4.1 / 11.4);
* INSERT DATA / DELETE DATA hold no variables, DELETE forms no blank nodes (Update, 3.1).

Blank-node label scope across basic graph patterns is not checked (irrelevant to what the
endpoint refuses; the engine checks it).
"""

from __future__ import annotations

from kgraph.web.sparql_syntax.lexer import SyntaxRefused, Token, position
from kgraph.web.sparql_syntax.parser import Node, Root

_PATTERN_STOP = ("GroupGraphPattern", "SubSelect")


def _select_parts(select: Node) -> tuple[Node, Node]:
    """A SelectQuery's / SubSelect's SelectClause and its WHERE group."""
    clause = select.child("SelectClause")
    where = select.child("WhereClause")
    assert clause is not None and where is not None
    group = where.children[-1]
    assert isinstance(group, Node)
    return clause, group


def _var(node: Node | Token | None) -> str | None:
    if isinstance(node, Node) and node.name == "Var":
        token = node.children[0]
        assert isinstance(token, Token)
        return token.text[1:]
    return None


def _vars(node: Node, stop: tuple[str, ...] = ()) -> set[str]:
    """Names of the variables below ``node`` (not below nodes named in ``stop``)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        for child in stack.pop().children:
            if type(child) is Node:
                if not stop or not any(n in stop for n in child.names):
                    stack.append(child)
            elif child[0] == "VAR1" or child[0] == "VAR2":
                out.add(child[1][1:])
    return out


class _Checker:
    def __init__(self, text: str, unit: str) -> None:
        self.text = text
        self.unit = unit
        self.scopes: dict[int, set[str]] = {}

    def fail(self, offset: int, what: str) -> SyntaxRefused:
        return SyntaxRefused(f"not a SPARQL 1.1 {self.unit}: error at "
                             f"{position(self.text, offset)}: {what}")

    # --- in-scope variables (section 18.2.1)
    def group_scope(self, group: Node) -> set[str]:
        """In-scope variables of a GroupGraphPattern, checking its BINDs on the way."""
        key = id(group)
        found = self.scopes.get(key)
        if found is not None:
            return found
        inner = group.children[1]
        scope: set[str] = set()
        if isinstance(inner, Node) and inner.name == "SubSelect":
            scope = self.projected(inner)
        elif isinstance(inner, Node):
            for element in inner.children:
                if not isinstance(element, Node):
                    continue
                if element.name == "TriplesBlock":
                    scope |= _vars(element)
                elif element.is_a("GraphPatternNotTriples"):  # shares its only child's node
                    scope |= self.element_scope(element, scope)
        self.scopes[key] = scope
        return scope

    def element_scope(self, element: Node, so_far: set[str]) -> set[str]:
        name = element.name
        if name == "GroupOrUnionGraphPattern":
            out: set[str] = set()
            for group in element.children:
                if isinstance(group, Node):
                    out |= self.group_scope(group)
            return out
        if name == "OptionalGraphPattern":
            return self.group_scope(element.children[1])  # type: ignore[arg-type]
        if name == "LateralGraphPattern":  # lateral.ebnf: joined like a group, its rows bound
            group = element.children[1]
            assert isinstance(group, Node)
            clash = sorted(self.assigned(group) & so_far)
            if clash:
                raise self.fail(element.start, f"LATERAL assigns ?{clash[0]} (BIND, VALUES or "
                                                "AS), already in scope before it")
            return self.group_scope(group)
        if name in ("GraphGraphPattern", "ServiceGraphPattern"):
            group = element.children[-1]
            target = next(c for c in element.children if isinstance(c, Node)
                          and c.is_a("VarOrIri"))
            own = {v for v in [_var(target)] if v}
            return own | self.group_scope(group)  # type: ignore[arg-type]
        if name == "Bind":
            target = element.children[-2]
            var = _var(target)
            if var in so_far:
                raise self.fail(element.start, f"BIND assigns ?{var}, already in scope in "
                                               "its group")
            return {var} if var else set()
        if name == "InlineData":
            return self.data_block_vars(element)
        return set()  # MINUS, FILTER

    def assigned(self, group: Node) -> set[str]:
        """Variables a group assigns (``BIND``, ``VALUES``, ``AS``), in it and in the groups
        it joins, as far as they are visible outside it (SEP-0006: a LATERAL may not assign a
        variable already bound on its left; the engine refuses it too). A ``FILTER``'s
        ``EXISTS`` assigns nothing outside; a sub-select only what it projects."""
        inner = group.children[1]
        if isinstance(inner, Node) and inner.name == "SubSelect":
            return self.assigned_by_select(inner)
        out: set[str] = set()
        if not isinstance(inner, Node):
            return out
        for element in inner.children:
            if not isinstance(element, Node) or not element.is_a("GraphPatternNotTriples"):
                continue
            if element.name == "Bind":
                out |= {v for v in [_var(element.children[-2])] if v}
            elif element.name == "InlineData":
                out |= self.data_block_vars(element)
            elif element.name != "Filter":  # groups, UNION, OPTIONAL, MINUS, GRAPH, LATERAL
                out |= {v for child in element.children if isinstance(child, Node)
                        and child.name == "GroupGraphPattern" for v in self.assigned(child)}
        return out

    def assigned_by_select(self, select: Node) -> set[str]:
        """What a sub-select assigns and projects: its ``AS`` aliases, and what its pattern
        and its trailing ``VALUES`` assign if it projects it."""
        clause, group = _select_parts(select)
        projected = self.projected(select)
        out = {v for v in self.assigned(group) if v in projected}
        children = clause.children
        out |= {v for i, child in enumerate(children) if isinstance(child, Token)
                and child.kind == "AS" for v in [_var(children[i + 1])] if v}
        values = select.child("ValuesClause")
        if values is not None and values.children:
            star = any(isinstance(c, Token) and c.kind == "*" for c in children)
            out |= {v for v in self.data_block_vars(values) if star or v in projected}
        return out

    def data_block_vars(self, node: Node) -> set[str]:
        """Variables of ``VALUES`` (an InlineData node: 'VALUES' DataBlock)."""
        block = node.children[1]  # DataBlock, sharing InlineDataOneVar|Full's node
        out: set[str] = set()
        for child in block.children:  # type: ignore[union-attr]
            if isinstance(child, Token) and child.kind == "{":
                break
            var = _var(child)
            if var:
                out.add(var)
        return out

    # --- SELECT
    def projected(self, select: Node) -> set[str]:
        """The variables a SelectQuery / SubSelect projects (checking its projections)."""
        key = id(select)
        found = self.scopes.get(key)
        if found is not None:
            return found
        clause, group = _select_parts(select)
        where_scope = self.group_scope(group)
        modifier = select.child("SolutionModifier")
        star = any(isinstance(c, Token) and c.kind == "*" for c in clause.children)
        plain: list[tuple[str, int]] = []
        aliases: list[tuple[str, Node, int]] = []
        seen: set[str] = set()
        children = clause.children
        i = 0
        while i < len(children):
            child = children[i]
            var = _var(child)
            if var:
                plain.append((var, child.start))  # type: ignore[union-attr]
                seen.add(var)
            elif isinstance(child, Token) and child.kind == "(":
                expression, alias_node = children[i + 1], children[i + 3]
                alias = _var(alias_node)
                assert alias and isinstance(expression, Node)
                if alias in seen or alias in where_scope:
                    raise self.fail(child.start, f"?{alias} is assigned by AS but is already "
                                                 "in scope or projected")
                seen.add(alias)
                aliases.append((alias, expression, child.start))
                i += 4
            i += 1
        self.check_grouping(clause, modifier, star, plain, aliases)
        result = set(where_scope) if star else seen
        self.scopes[key] = result
        return result

    def check_grouping(self, clause: Node, modifier: Node | None, star: bool,
                       plain: list[tuple[str, int]], aliases: list[tuple[str, Node, int]]) -> None:
        group_clause = modifier.child("GroupClause") if modifier else None
        places = [clause] + [c for c in (modifier.children if modifier else [])
                             if isinstance(c, Node) and c.name in ("HavingClause", "OrderClause")]
        aggregated = any(True for place in places
                         for _ in place.nodes("Aggregate", stop=_PATTERN_STOP))
        if group_clause is None and not aggregated:
            return
        if star:
            raise self.fail(clause.start, "SELECT * is not allowed with GROUP BY or aggregates")
        keys: set[str] = set()
        if group_clause is not None:
            for condition in group_clause.nodes("GroupCondition", stop=("GroupCondition",)):
                # Var (sharing the condition's node) | '(' Expression 'AS' Var ')' | a call
                parts = condition.children
                var = _var(condition) or (_var(parts[3]) if len(parts) == 5 else None)
                if var:
                    keys.add(var)
        for var, start in plain:
            if var not in keys:
                raise self.fail(start, f"?{var} is projected but neither grouped nor aggregated")
        known = set(keys)
        for alias, expression, start in aliases:
            loose = _vars(expression, stop=("Aggregate", *_PATTERN_STOP)) - known
            if loose:
                name = sorted(loose)[0]
                raise self.fail(start, f"?{name} is used in a projection but neither grouped "
                                       "nor aggregated")
            known.add(alias)

    # --- VALUES
    def check_values(self, block: Node) -> None:
        width: int | None = None
        count = 0
        in_row = False
        header = True
        for child in block.children:
            if isinstance(child, Token):
                kind = child.kind
                if header:
                    if kind == "NIL" or kind == "(":
                        width = 0
                    elif kind == "{":
                        header = False
                    continue
                if kind == "(":
                    in_row, count = True, 0
                elif kind == ")":
                    in_row = False
                    if count != width:
                        raise self.fail(child.start, f"a VALUES row has {count} values for "
                                                     f"{width} variables")
                elif kind == "NIL" and width != 0:
                    raise self.fail(child.start, f"a VALUES row has 0 values for {width} "
                                                 "variables")
            elif header and child.name == "Var":
                width = (width or 0) + 1
            elif in_row and child.is_a("DataBlockValue"):
                count += 1


def check(tree: Root, text: str) -> None:
    """Raise :class:`SyntaxRefused` for the first broken constraint of a parsed request."""
    checker = _Checker(text, "update" if tree.is_a("UpdateUnit") else "query")
    index = tree.index
    checked = ("GroupGraphPattern", "SelectQuery", "SubSelect", "InlineDataFull", "InsertData",
               "DeleteData", "DeleteWhere", "DeleteClause")
    for name, node in ((kind, n) for kind in checked for n in index[kind]):
        if name == "GroupGraphPattern":
            checker.group_scope(node)
        elif name in ("SelectQuery", "SubSelect"):
            checker.projected(node)
        elif name == "InlineDataFull":
            checker.check_values(node)
        else:
            if name in ("InsertData", "DeleteData") and _vars(node):
                raise checker.fail(node.start, f"{name_of(name)} holds variables")
            if name != "InsertData" and any(
                    t.kind in ("BLANK_NODE_LABEL", "ANON", "[") for t in node.tokens()):
                raise checker.fail(node.start, f"{name_of(name)} holds blank nodes")


def name_of(production: str) -> str:
    return {"InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
            "DeleteWhere": "DELETE WHERE", "DeleteClause": "DELETE"}[production]
