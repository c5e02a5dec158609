"""How things read on a page, in a PDF or an e-mail: the words for stored codes (`labels`),
money and quantity text and the Jinja filters (`formatting`), the words of a service error
(`errors`) and the Plotly figures of the graphs (`figures`).

Faces and the services that render documents import it; it imports the billing core and
`portal.services.merchant_tz` only (no models, no queries, no face). `create_app` registers
the filters once with `formatting.register_filters`.
"""
