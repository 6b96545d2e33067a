from django.db import migrations, models


class Migration(migrations.Migration):
    """The statistics count completed inspections of a period per enterprise
    (yingji/stats/figures.py): this index lets the database read them in enterprise order
    from the index alone."""

    dependencies = [
        ("inspections", "0002_inspection_inspection_newest"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inspection",
            index=models.Index(fields=["status", "enterprise", "date"], name="inspection_stats"),
        ),
    ]
