"""Stage 4, collections: selection and plan, generated parts, assembly from the sheets' renders."""
