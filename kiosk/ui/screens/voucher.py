"""PRINTING (the voucher on screen while the printer works) and DONE (take your voucher; or the print
problem in plain words, the voucher kept and reprintable by staff, its code shown)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session.model import Finish, Screen, View
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary
from kiosk.ui.widgets import Box, Picture, Text


class VoucherPart:
    screens = (Screen.PRINTING, Screen.DONE)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        body = Box(
            orientation="vertical" if t.portrait else "horizontal", spacing=t.px(16), name="voucher-screen"
        )
        if view.voucher is not None:
            preview = Box(
                bg="#FFFFFF",
                radius=t.px(6),
                size_hint=(1, 1.1) if t.portrait else (0.42, 1),
                name="voucher-frame",
            )
            preview.padding = (t.px(6), t.px(6))
            preview.add_widget(Picture(texture=ctx.voucher_texture(view.voucher), name="voucher-preview"))
            body.add_widget(preview)
        side = Box(orientation="vertical", spacing=t.gap, name="voucher-side")
        if view.screen == Screen.PRINTING:
            side.add_widget(
                paragraph(ctx, _("Printing your voucher…"), size=t.title, bold=True, name="printing-title")
            )
            side.add_widget(
                paragraph(
                    ctx,
                    _("It comes out of the printer in a moment."),
                    size=t.large,
                    colour=t.muted,
                    name="printing-text",
                )
            )
        else:
            self._done(ctx, side)
        body.add_widget(side)
        return page(ctx, body)

    def _done(self, ctx: Ctx, side: Box) -> None:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        if view.print_problem is None:
            side.add_widget(
                paragraph(ctx, _("Take your voucher!"), size=t.title, bold=True, name="done-title")
            )
            side.add_widget(
                paragraph(
                    ctx,
                    _("Show it at the till to use it. Thank you!"),
                    size=t.large,
                    colour=t.muted,
                    name="done-text",
                )
            )
        else:
            side.add_widget(
                paragraph(
                    ctx,
                    _("Your voucher is saved"),
                    size=t.title,
                    bold=True,
                    size_hint_y=0.8,
                    name="done-title",
                )
            )
            problem = Box(bg=t.warning, radius=t.px(10), size_hint_y=1.2, name="print-problem")
            problem.padding = (t.px(12), t.px(6))
            problem.add_widget(
                Text(
                    view.print_problem(view.lang),
                    colour="#FFFFFF",
                    font_size=t.large,
                    bold=True,
                    name="print-problem-text",
                )
            )
            side.add_widget(problem)
            side.add_widget(
                paragraph(ctx, _("Staff can print it again for you."), size=t.body, name="reprint-text")
            )
        if view.voucher is not None:
            side.add_widget(
                paragraph(
                    ctx,
                    _("Code: {code}").format(code=view.voucher.get("code", "")),
                    size=t.large,
                    bold=True,
                    name="voucher-code",
                )
            )
        side.add_widget(action_row(ctx, primary(ctx, _("Done"), ctx.do(Finish()), "finish")))
