"""research.account: a research brief for one account that discovery.accounts found,
for the account executive before the first call.

LangGraph Python: gather (the company's record from discovery's dataset, matched by
domain) → brief (the pool's model, structured output: summary, why now, talking points,
risks, first question) → finish (trimmed, sources named). The input is one item of
discovery.accounts' `accounts` as it is, so discovery's results feed this workflow.

Module level imports nothing but typing and switchyard_worker: LangGraph and the
dataset load inside graph(), once per worker process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from switchyard_worker.graph import load_prompt, run_of

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

BRIEF_SCHEMA = {
    "type": "object",
    "required": ["summary", "whyNow", "talkingPoints", "risks", "firstQuestion"],
    "additionalProperties": False,
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 400},
        "whyNow": {"type": "string", "maxLength": 300},
        "talkingPoints": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 4},
        "risks": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "firstQuestion": {"type": "string", "minLength": 1, "maxLength": 300},
    },
}


class Account(TypedDict, total=False):
    name: str
    domain: str
    country: str
    city: str
    industry: str
    employees: int
    rank: int
    score: float
    reasons: list[str]
    product: str


class Output(TypedDict):
    company: str
    domain: str
    summary: str
    whyNow: str
    talkingPoints: list[str]
    risks: list[str]
    firstQuestion: str
    sources: list[str]
    model: str


class State(Account, total=False):
    facts: dict[str, Any]
    brief: dict[str, Any]
    model: str
    # The output's fields, set by finish.
    company: str
    summary: str
    whyNow: str
    talkingPoints: list[str]
    risks: list[str]
    firstQuestion: str
    sources: list[str]


def draft(account: Account, facts: dict[str, Any]) -> dict[str, str]:
    """A brief from the records alone: what the model improves on (and what the offline model returns)."""
    name = account.get("name", "the company")
    signals = facts.get("signals") or []
    where = " ".join(part for part in (account.get("city"), account.get("country")) if part)
    # No commas or semicolons inside a point: the draft lists points separated by them.
    points = [f"{signal[0].upper()}{signal[1:]}: how are they handling it today?" for signal in signals[:2]]
    points.append(f"{account.get('employees', 'their')} people in {account.get('industry') or 'their industry'}{f' · {where}' if where else ''}")
    return {
        "summary": facts.get("description") or f"{name}: {account.get('industry') or 'a company'} in {where or 'an unknown place'}",
        "whyNow": f"{name} is {' and '.join(signals)}." if signals else "No recent signal in the records: ask what changed this year.",
        "talkingPoints": "; ".join(points),
        "risks": "No recent signal on record" if not signals else f"{name} may already run a tool for this",
        "firstQuestion": f"What does {signals[0]} change for your team this quarter?" if signals else f"What is {name} focused on this quarter?",
    }


def graph(setup: Any) -> Any:
    """The graph factory (one parameter): the research pool's worker calls it once per process."""
    import json
    from pathlib import Path

    from langgraph.graph import END, START, StateGraph

    here = Path(__file__).resolve().parent
    prompt = setup.prompt or load_prompt(here / "prompt.md")
    # The companies discovery.accounts searches (generated records): matched by domain.
    records = json.loads((here.parent / "discovery-accounts" / "companies.json").read_text(encoding="utf-8"))
    by_domain = {record["domain"].lower(): record for record in records}
    temperature = prompt.params.get("temperature")
    max_tokens = prompt.params.get("maxTokens")

    def gather(state: State) -> dict[str, Any]:
        record = by_domain.get(state["domain"].lower())
        if record is None:
            return {"facts": {"description": "", "signals": [], "source": None}}
        return {"facts": {"description": record["description"], "signals": record["signals"], "founded": record["founded"], "source": record["id"]}}

    async def brief(state: State, config: RunnableConfig) -> dict[str, Any]:
        run = run_of(config)
        facts = state["facts"]
        text = prompt.render(
            {
                # What the input leaves out is said to be unknown, not left for the model to guess.
                "account": {
                    **{"city": "unknown", "country": "unknown", "industry": "unknown industry", "employees": "an unknown number of"},
                    **{key: value for key, value in state.items() if value not in ("", None)},
                    "reasons": state.get("reasons") or ["(none given)"],
                },
                "facts": {"description": facts["description"] or "(no record)", "signals": facts["signals"] or ["(none on record)"]},
                "product": state.get("product") or "our product",
                "draft": draft(state, facts),
            }
        )
        result = await run.model.generate(
            [{"role": "user", "content": text}],
            schema=BRIEF_SCHEMA,
            name="brief",
            temperature=temperature if isinstance(temperature, (int, float)) else None,
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        )
        return {"brief": result.object, "model": result.model}

    def finish(state: State) -> dict[str, Any]:
        brief = state["brief"]
        sources = [f"company record {state['facts']['source']}"] if state["facts"]["source"] else []
        if state.get("reasons"):
            sources.append("discovery.accounts ranking")
        return {
            "company": state["name"],
            "summary": brief["summary"].strip(),
            "whyNow": brief["whyNow"].strip(),
            "talkingPoints": [point.strip() for point in brief["talkingPoints"] if point.strip()][:4] or [brief["summary"]],
            "risks": [risk.strip() for risk in brief["risks"] if risk.strip()][:3],
            "firstQuestion": brief["firstQuestion"].strip(),
            "sources": sources,
        }

    builder = StateGraph(State, input_schema=Account, output_schema=Output)
    builder.add_node("gather", gather)
    builder.add_node("brief", brief)
    builder.add_node("finish", finish)
    builder.add_edge(START, "gather")
    builder.add_edge("gather", "brief")
    builder.add_edge("brief", "finish")
    builder.add_edge("finish", END)
    return builder.compile()
