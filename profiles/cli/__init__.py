"""CLI: `python -m profiles`, gcloud container ai profiles' verbs offline. main.py builds the parser and imports
only the module of the command being run; args.py and printers.py are shared; every other module is one command
group. Imports every package below it except stack/.
"""
