"""A form over `authcourse.instruments.guide.recommend`: pick your case, read the advice and its reasons."""

from __future__ import annotations

import ipywidgets as widgets

from ..instruments.guide import CLIENTS, Advice, Case, recommend
from .saved import SavedForm


class DecisionGuide(SavedForm, widgets.VBox):
    """The decision guide as a form; `advice` is what `recommend` says for the current answers."""

    def __init__(self, case: Case | None = None) -> None:
        case = case or Case()
        style = {"description_width": "14em"}
        layout = widgets.Layout(width="34em")
        self.client = widgets.Dropdown(options=[(label, key) for key, label in CLIENTS.items()], value=case.client,
                                       description="Who calls the API", style=style, layout=layout)
        self.servers = widgets.BoundedIntText(value=case.servers, min=1, max=1000, description="Application servers",
                                              style=style, layout=layout)
        self.instant_logout = widgets.Checkbox(value=case.instant_logout, description="Logout must take effect at once",
                                               style=style, layout=layout)
        self.shared_store = widgets.Checkbox(value=case.shared_store, description="All servers can reach one store",
                                             style=style, layout=layout)
        self.other_verifiers = widgets.Checkbox(value=case.other_verifiers, style=style, layout=layout,
                                                description="Other services verify the credential")
        self.answer = widgets.HTML()
        controls = (self.client, self.servers, self.instant_logout, self.shared_store, self.other_verifiers)
        for control in controls:
            control.observe(self._update, names="value")
        super().__init__(children=(*controls, self.answer))
        self._update()

    @property
    def case(self) -> Case:
        return Case(self.client.value, self.servers.value, self.instant_logout.value, self.shared_store.value,
                    self.other_verifiers.value)

    @property
    def advice(self) -> Advice:
        return recommend(self.case)

    def _update(self, change: object = None) -> None:
        self.answer.value = self.advice.to_html()

    def saved_note(self) -> str:
        return f"Decision guide (a form: run the notebook to change the answers). For this case, use: {self.advice.use}"

    def saved_picture(self) -> str:
        return self.answer.value
