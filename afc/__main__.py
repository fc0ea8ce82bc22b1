from afc.cli import main

main()
