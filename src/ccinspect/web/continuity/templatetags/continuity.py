from django import template

register = template.Library()


@register.filter
def label_of(form, name):
    return form.fields[name].label


@register.filter
def cell(row, name):
    v = getattr(row, name)
    if isinstance(v, list):
        return "; ".join(map(str, v))
    if isinstance(v, bool):
        return "✓" if v else ""
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:g}"
    return v
