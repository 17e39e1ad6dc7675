from costwise.cli import main

main()
