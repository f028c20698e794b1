"""`LimitedSandbox`: Jinja2's immutable sandbox with limits on the work one render may do.

Jinja2's sandbox stops a template from reaching Python's internals, but not from asking for
too much: two nested `range(100000)` loops run 10^10 times, and `'x' * 300000000` asks for
300 MB at once. Staff write the templates, so a slip (or a pasted example) must become a clear
error when the campaign is created, never a hung sender or a process that runs out of memory.

What is limited, per render:

- loop steps, over all loops together (`MAX_LOOP_STEPS`), and the time spent (`MAX_SECONDS` of
  this thread's CPU, so a busy machine or a pause elsewhere never fails a render), checked at
  every loop step, every call and every operator, so no construct spins unchecked;
- `range()` to `MAX_RANGE` numbers;
- text: `*` on a string or list, `%` and `str.format` with a width, `~`, `+`, and the string
  methods and filters that pad or replace, refused *before* they would build more than
  `MAX_TEXT` characters; `**` refused for large exponents;
- the whole output, to `MAX_TEXT` characters.

Loops and `~` have no hook in Jinja2, so `_parse` rewrites the template's syntax tree: every
`for` iterates through `_limited_loop(...)` and every `~` result passes `_limited_text(...)`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_LOOP_STEPS = 200_000
MAX_RANGE = 10_000
MAX_TEXT = 1_000_000  # characters (items, for lists)
MAX_EXPONENT = 64
MAX_SECONDS = 2.0


class TemplateLimitError(SecurityError):
    """A template asked for more than a render may do; the message says what, for staff."""


@dataclasses.dataclass
class _Budget:
    deadline: float
    steps: int = 0


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("template_budget", default=None)


def _spend(steps: int = 0) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget.steps += steps
    if budget.steps > MAX_LOOP_STEPS:
        raise TemplateLimitError(f"its loops ran more than {MAX_LOOP_STEPS:,} times")
    if time.thread_time() > budget.deadline:
        raise TemplateLimitError(f"it took more than {MAX_SECONDS:g} seconds to render")


def _limited_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend(1)
        yield item


def _checked_size(size: int, what: str) -> None:
    if size > MAX_TEXT:
        raise TemplateLimitError(f"{what} would make {size:,} characters (the limit is {MAX_TEXT:,})")


def _limited_text(value: Any) -> Any:
    if isinstance(value, str):
        _checked_size(len(value), "joining text with ~")
    return value


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimitError(f"range() of {len(numbers):,} numbers (the limit is {MAX_RANGE:,})")
    return numbers


# Padding in a %-format or a format spec: `%300000000s`, `{:>300000000}`, `{:.300000000f}`.
_WIDTH = re.compile(r"\d+")


def _widest(spec: str) -> int:
    return max((int(digits) for digits in _WIDTH.findall(spec)), default=0)


def _width_argument(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> int:
    value = args[0] if args else kwargs.get(name, 0)
    return value if isinstance(value, int) else 0


# str methods (and filters of the same name) whose result grows with an argument.
_PADDING = {"center": "width", "ljust": "width", "rjust": "width", "zfill": "width", "expandtabs": "tabsize"}


def _grown_size(name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """How long `text.<name>(*args)` would be, at most; 0 when the method doesn't grow text."""
    if name in _PADDING:
        width = _width_argument(args, kwargs, _PADDING[name])
        return width * (text.count("\t") + 1) if name == "expandtabs" else width
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        growth = max(len(args[1]) - len(args[0]), 0)
        return len(text) + growth * (text.count(args[0]) if args[0] else len(text) + 1)
    if name in ("format", "format_map"):
        return len(text) + _widest(text)
    return 0


class _LimitLoopsAndJoins(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name("_limited_loop", "load"), [node.iter], [], None, None)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.Name("_limited_text", "load"), [node], [], None, None)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose renders are bounded in steps, time and size; see the module."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # lorem ipsum of any length: no use in an email
        self.globals.update(range=_limited_range, _limited_loop=_limited_loop, _limited_text=_limited_text)
        for name in ("center", "indent", "replace", "format"):
            self.filters[name] = _limited_filter(name, self.filters[name])
        self.filters["join"] = _limited_join(self.filters["join"])
        for name in ("batch", "slice"):
            self.filters[name] = _limited_counts(name, self.filters[name])

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        limited = _LimitLoopsAndJoins().visit(tree)
        assert isinstance(limited, nodes.Template)
        return limited

    def render_limited(self, template: Template, context: dict[str, Any]) -> str:
        """`template.render(context)`, within the limits; TemplateLimitError says which was passed."""
        token = _budget.set(_Budget(deadline=time.thread_time() + MAX_SECONDS))
        try:
            size, parts = 0, []
            for count, part in enumerate(template.generate(context)):
                size += len(part)
                if size > MAX_TEXT:
                    _checked_size(size, "the whole message")
                if not count & 63:  # the clock every 64 pieces: reading it costs more than the rest
                    _spend()
                parts.append(part)
            return "".join(parts)
        finally:
            _budget.reset(token)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if isinstance(sized, (str, list, tuple)) and isinstance(count, int):
                    _checked_size(len(sized) * count, f"repeating text {count:,} times")
        elif operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise TemplateLimitError(f"a power of {right:,} (the limit is {MAX_EXPONENT})")
        elif operator == "%" and isinstance(left, str):
            _checked_size(len(left) + _widest(left), "a %-format with that width")
        elif (
            operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple))
        ):
            _checked_size(len(left) + len(right), "joining text with +")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _checked_size(_grown_size(getattr(__obj, "__name__", ""), owner, args, kwargs), "that text")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        owner = getattr(value, "__self__", None)
        if wrapped is None or not isinstance(owner, str):
            return wrapped
        _checked_size(len(owner) + _widest(owner), "a format with that width")
        return wrapped


def _limited_filter(name: str, apply: Callable[..., Any]) -> Callable[..., Any]:
    def limited(*args: Any, **kwargs: Any) -> Any:
        _spend()
        # `replace` gets Jinja's evaluation context first; the text is the first string.
        at = next((index for index, arg in enumerate(args) if isinstance(arg, str)), None)
        if at is not None:
            text, rest = args[at], args[at + 1 :]
            if name == "format":
                _checked_size(len(text) + _widest(text), "a format with that width")
            elif name == "indent":
                width = kwargs.get("width", rest[0] if rest else 4)
                per_line = width if isinstance(width, int) else len(str(width))
                _checked_size(len(text) + per_line * (text.count("\n") + 1), "indenting text")
            else:
                _checked_size(_grown_size(name, text, rest, kwargs), f"the {name} filter")
        return apply(*args, **kwargs)

    limited.__dict__.update(getattr(apply, "__dict__", {}))  # keeps Jinja's pass_eval_context mark
    return limited


def _limited_join(apply: Callable[..., Any]) -> Callable[..., Any]:
    """`join` needs its items counted first: `range(10000)|join('x' * 100000)` is 1 GB."""

    def limited(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> Any:
        _spend()
        items = list(value)
        separator = len(d) if isinstance(d, str) else 0
        size = sum(len(item) if isinstance(item, str) else 20 for item in items)
        _checked_size(size + separator * max(len(items) - 1, 0), "the join filter")
        return apply(eval_ctx, items, d, attribute)

    limited.__dict__.update(getattr(apply, "__dict__", {}))
    return limited


def _limited_counts(name: str, apply: Callable[..., Any]) -> Callable[..., Any]:
    """`batch` and `slice` fill their groups up to the count asked for."""

    def limited(value: Any, count: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        if isinstance(count, int) and count > MAX_RANGE:
            raise TemplateLimitError(f"the {name} filter with {count:,} (the limit is {MAX_RANGE:,})")
        return apply(value, count, *args, **kwargs)

    return limited
